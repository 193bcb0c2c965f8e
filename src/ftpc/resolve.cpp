#include "ftpc/resolve.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include "ftpc/client_errors.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpc {

namespace {

Result<SocketAddress> resolve_blocking(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
    return make_error_code(ClientError::resolve_failed);
  }
  SocketAddress a = SocketAddress::from_sockaddr(res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  a.set_port(port);
  return a;
}

}  // namespace

Task<Result<SocketAddress>> resolve(std::string host, std::uint16_t port) {
  auto numeric = SocketAddress::from_ip(host, port);
  if (numeric) co_return numeric;
  if (host == "localhost") co_return SocketAddress::from_ip("127.0.0.1", port);
  co_return co_await offload([&] { return resolve_blocking(host, port); });
}

}  // namespace muxio::ftpc
