#include "ftpc/endpoint.hpp"

namespace muxio::ftpc {

std::optional<Endpoint> endpoint_for(const Url& url, const LoginCredentials& login,
                                     const Options& options, const TlsSettings& tls,
                                     std::string* error) {
  Endpoint e;
  e.host = url.host;
  e.port = url.port;
  e.user = login.user;
  e.password = login.password;
  e.options = options;
  if (apply_tls(e.options, url, tls, error)) return std::nullopt;
  return e;
}

Task<Result<std::unique_ptr<ControlConnection>>> open_session(EventLoop& loop, Endpoint endpoint) {
  auto conn =
      co_await ControlConnection::connect(loop, endpoint.host, endpoint.port, endpoint.options);
  if (!conn) co_return conn.error();
  auto ec = co_await (*conn)->login(endpoint.user, endpoint.password);
  if (ec) co_return ec;
  co_return std::move(*conn);
}

}  // namespace muxio::ftpc
