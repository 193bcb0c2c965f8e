// DataConnection's two endings: complete (close_notify, then close) and cut short (a reset).
#include "ftpd/data_connection.hpp"

namespace muxio::ftpd {

Task<void> DataConnection::finish() {
  if (tls) (void)co_await tls->shutdown();
  stream().close();
}

void DataConnection::abort() {
  TcpStream& transport = tls ? tls->transport() : tcp;
  transport.abort();
  stream().close();
}

}  // namespace muxio::ftpd
