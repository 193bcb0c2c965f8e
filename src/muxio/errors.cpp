#include <string>

#include "muxio/events.hpp"
#include "muxio/result.hpp"

namespace muxio {
namespace {

class MuxioCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "muxio"; }
  std::string message(int code) const override {
    switch (static_cast<Error>(code)) {
      case Error::fd_too_large_for_select:
        return "select() cannot watch a descriptor >= FD_SETSIZE (1024); use poll or epoll";
      case Error::backend_unavailable:
        return "IO backend unavailable on this system";
      case Error::unknown_backend:
        return "unknown IO backend";
      case Error::bad_address:
        return "malformed address (expected HOST:PORT or [IPv6]:PORT)";
      case Error::timed_out:
        return "operation timed out";
      case Error::cancelled:
        return "operation cancelled";
      case Error::tls_handshake_failed:
        return "TLS handshake failed";
      case Error::tls_certificate_rejected:
        return "TLS certificate verification failed";
      case Error::tls_protocol_error:
        return "TLS protocol error";
    }
    return "unknown muxio error";
  }
  std::error_condition default_error_condition(int code) const noexcept override {
    switch (static_cast<Error>(code)) {
      case Error::timed_out:
        return std::errc::timed_out;
      case Error::cancelled:
        return std::errc::operation_canceled;
      default:
        return {code, *this};
    }
  }
};

}  // namespace

const std::error_category& muxio_category() noexcept {
  static const MuxioCategory category;
  return category;
}

std::string events_to_string(Events e) {
  std::string s;
  auto add = [&](Events bit, const char* name) {
    if (!(e & bit)) return;
    if (!s.empty()) s += '|';
    s += name;
  };
  add(kReadable, "READ");
  add(kWritable, "WRITE");
  add(kError, "ERROR");
  add(kHangup, "HUP");
  add(kPeerClosed, "PEER_CLOSED");
  return s.empty() ? "0" : s;
}

}  // namespace muxio
