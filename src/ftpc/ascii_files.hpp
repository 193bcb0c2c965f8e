// The local side of TYPE A transfers (muxftp's `ascii` mode): text travels with CRLF line ends
// (RFC 959 §3.1.1.1) and lives here with LF ones. A download arrives as it travelled and is then
// rewritten in place; an upload is sent from a converted temporary copy. The conversion itself is
// ftp/ascii_codec.hpp's, the same the server uses. Blocking file IO: call on the offload pool.
#pragma once

#include <system_error>

namespace muxio::ftpc {

// Rewrites the whole file open read-write at fd: CRLF -> LF (a lone CR stays), then truncates it
// to its new length. Never needs more room than the file had.
std::error_code crlf_to_lf_in_place(int fd);

// Writes from_fd's content (from offset 0) to to_fd (at its current offset) with LF -> CRLF.
std::error_code lf_to_crlf_copy(int from_fd, int to_fd);

}  // namespace muxio::ftpc
