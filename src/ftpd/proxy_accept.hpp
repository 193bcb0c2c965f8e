// Reading a PROXY protocol header (ftp/proxy_header.hpp) from a new connection, before the 220
// banner and before an implicit-TLS handshake, and deciding who the client is.
//
// The header is peeked, not read, until it is complete: no byte after it is consumed, so a
// TLS ClientHello sent right behind it (implicit FTPS) or no header at all (optional mode) leaves
// the stream as it was. Peeking is retried on a short back-off, within proxy_header_timeout.
#pragma once

#include <optional>
#include <string>

#include "ftpd/network_config.hpp"
#include "muxio/task.hpp"
#include "muxio/tcp_stream.hpp"

namespace muxio::ftpd {

struct ProxyOutcome {
  bool accepted = false;        // false: close the connection (`error` says why)
  muxio::SocketAddress client;  // the header's source, else the peer
  std::optional<muxio::SocketAddress> destination;  // the header's destination, if any
  int version = 0;                                  // 0: no header
  std::string error;
};

// `peer` is the connection's own peer (the balancer). Trusted peers (proxy_trusted_networks)
// must send a header in required mode and may in optional mode; a header from anyone else is a
// protocol error, and in required mode so is the connection itself.
Task<ProxyOutcome> read_proxy_header(TcpStream& stream, const muxio::SocketAddress& peer,
                                     ProxyMode mode, const NetworkSettings& net);

}  // namespace muxio::ftpd
