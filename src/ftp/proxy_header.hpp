// The PROXY protocol (HAProxy's doc/proxy-protocol.txt), versions 1 and 2: the header a TCP
// balancer sends before the client's bytes, naming the client's address (source) and the address
// the client connected to (destination). Pure code over the bytes received so far, bounded: a v1
// line is at most 107 bytes, a v2 header at most 16 + kProxyV2MaxPayload bytes.
//
// A server reads with proxy_header_wanted() so it never reads past the header (what follows
// belongs to the FTP session or to the TLS handshake), and calls parse_proxy_header() after each
// read until it is complete or invalid.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "muxio/socket_address.hpp"

namespace muxio::ftp {

inline constexpr std::size_t kProxyV1MaxLine = 107;    // "PROXY UNKNOWN <39> <39> 65535 65535\r\n"
inline constexpr std::size_t kProxyV2HeaderSize = 16;  // signature, ver/cmd, family, length
inline constexpr std::size_t kProxyV2MaxPayload = 1024;  // addresses (at most 216) and TLVs

struct ProxyHeader {
  int version = 0;  // 1 or 2
  // False for v1 UNKNOWN, v2 LOCAL (the balancer's own health checks) and v2 families without
  // TCP addresses (UNSPEC, UNIX): the connection's own addresses stand.
  bool has_addresses = false;
  muxio::SocketAddress source;       // the client
  muxio::SocketAddress destination;  // what the client connected to (the balancer's frontend)
  std::size_t size = 0;              // bytes of the header, TLVs included
};

struct ProxyParse {
  enum class Status { incomplete, complete, invalid };
  Status status = Status::incomplete;
  ProxyHeader header;  // when complete
  std::string error;   // when invalid: what was wrong, for the log
};

// Parses the header at the start of `bytes`. Incomplete while `bytes` is a proper prefix of a
// header that may still turn out valid; invalid as soon as it cannot (bad signature, grammar,
// oversized). Bytes after the header are not looked at.
ProxyParse parse_proxy_header(std::string_view bytes);

// How many more bytes may be read without reading past the header, given the `bytes` received so
// far (at least 1 while the parse is incomplete; 0 once complete or invalid).
std::size_t proxy_header_wanted(std::string_view bytes);

// Formats a header (for tests and tools). v1: "PROXY TCP4 ...\r\n", or "PROXY UNKNOWN\r\n"
// without addresses. v2: PROXY command with INET/INET6 STREAM addresses, or LOCAL without.
std::string format_proxy_v1(const ProxyHeader& h);
std::string format_proxy_v2(const ProxyHeader& h);

}  // namespace muxio::ftp
