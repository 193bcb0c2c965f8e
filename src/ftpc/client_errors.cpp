#include "ftpc/client_errors.hpp"

#include <string>

#include "muxio/result.hpp"

namespace muxio::ftpc {

namespace {

class ClientCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ftpc"; }
  std::string message(int v) const override {
    switch (static_cast<ClientError>(v)) {
      case ClientError::protocol:
        return "the server sent something that is not an FTP reply";
      case ClientError::closed:
        return "the server closed the control connection";
      case ClientError::bad_argument:
        return "CR, LF or NUL in a path";
      case ClientError::short_transfer:
        return "the transfer ended early";
      case ClientError::resolve_failed:
        return "cannot resolve the host name";
      case ClientError::login_failed:
        return "login refused";
      case ClientError::local_io:
        return "local file error";
      case ClientError::verify_mismatch:
        return "the copy differs from the server's file";
    }
    return "unknown ftpc error";
  }
};

class ReplyCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ftp-reply"; }
  std::string message(int v) const override { return "server replied " + std::to_string(v); }
};

}  // namespace

const std::error_category& client_category() noexcept {
  static const ClientCategory c;
  return c;
}
std::error_code make_error_code(ClientError e) noexcept {
  return {static_cast<int>(e), client_category()};
}
const std::error_category& reply_category() noexcept {
  static const ReplyCategory c;
  return c;
}
std::error_code reply_error(int code) noexcept {
  return {code, reply_category()};
}
int reply_code_of(std::error_code ec) noexcept {
  return ec.category() == reply_category() ? ec.value() : 0;
}

std::string error_hint(std::error_code ec) {
  if (ec == muxio::Error::tls_certificate_rejected) {
    return "the server's certificate is not trusted here: --cacert FILE trusts it (or the CA "
           "that signed it), -k (--insecure) skips the check";
  }
  if (reply_code_of(ec) == 522) {
    return "522: the server wants the data connection protected by TLS and resuming the control "
           "connection's TLS session (session reuse); use --tls or an ftpes:// URL, and with TLS "
           "on already, the server did not take the session this client offered";
  }
  return {};
}

std::string with_hint(std::string what, std::error_code ec) {
  std::string hint = error_hint(ec);
  if (!hint.empty()) what += " (hint: " + hint + ")";
  return what;
}

}  // namespace muxio::ftpc
