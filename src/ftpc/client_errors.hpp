// The client's error values, besides errnos and muxio's own: ClientError (what went wrong that is
// neither an errno nor a reply) and FTP reply codes as errors (reply_error). Everything in ftpc
// returns these as std::error_code; retry_policy.hpp says which of them are worth a new attempt.
#pragma once

#include <string>
#include <system_error>

namespace muxio::ftpc {

// Errors of the client that are not an errno or a reply code.
enum class ClientError {
  protocol = 1,     // the server sent something that is not an FTP reply
  closed,           // the server closed the control connection
  bad_argument,     // CR/LF/NUL in a path or name
  short_transfer,   // the data ended before the expected size
  resolve_failed,   // the host name did not resolve
  login_failed,     // 530 and friends at login
  local_io,         // unused (local file errors are their errno)
  verify_mismatch,  // --verify: the copy and the server's file differ
};
const std::error_category& client_category() noexcept;
std::error_code make_error_code(ClientError e) noexcept;

// An FTP reply code as an error (value = the code, 400..599).
const std::error_category& reply_category() noexcept;
std::error_code reply_error(int code) noexcept;
// The reply code of an error made by reply_error, else 0.
int reply_code_of(std::error_code ec) noexcept;

// What the user can do about an error, where there is something to say: a certificate that did
// not verify names --cacert and -k; a 522 says the data connection must be protected and reuse
// the control connection's TLS session. Empty otherwise.
std::string error_hint(std::error_code ec);
// `what` (the server's reply line, or the error's message) followed by the hint, if any.
std::string with_hint(std::string what, std::error_code ec);

}  // namespace muxio::ftpc

template <>
struct std::is_error_code_enum<muxio::ftpc::ClientError> : std::true_type {};
