// DataConnection: one open data connection of a transfer, plain TCP or TLS over it after
// PROT P. Made by the session (which holds the PASV/PORT set-up and the TLS state) and owned by
// the Transfer that moves bytes over it. Loop thread only.
#pragma once

#include <memory>

#include "muxio/tcp_stream.hpp"
#include "muxio/tls_stream.hpp"

namespace muxio::ftpd {

struct DataConnection {
  TcpStream tcp;
  std::unique_ptr<TlsStream> tls;
  Stream& stream() { return tls ? static_cast<Stream&>(*tls) : tcp; }
  // Ends the transfer: TLS close_notify first, so the client knows the data is complete.
  Task<void> finish();
  // Ends a transfer that is not complete with a TCP reset and no close_notify: a FIN (or a
  // TLS close) looks like the end of a complete file to most clients.
  void abort();
};

}  // namespace muxio::ftpd
