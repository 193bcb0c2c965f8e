// Result<T>: a value or an error code. Errors are values at the edges of muxio: IO operations
// return them instead of throwing, so a failed socket never unwinds through the event loop.
#pragma once

#include <cassert>
#include <system_error>
#include <utility>
#include <variant>

namespace muxio {

// Errors muxio reports that have no errno of their own.
enum class Error {
  fd_too_large_for_select = 1,  // select(2) cannot watch descriptors >= FD_SETSIZE
  backend_unavailable,          // the requested IO backend does not exist or cannot start here
  unknown_backend,              // no backend of that name
  bad_address,                  // an address string that does not parse
  timed_out,                    // a timeout scope expired
  cancelled,                    // the task was cancelled
  tls_handshake_failed,         // the TLS handshake failed (protocol, version or cipher mismatch)
  tls_certificate_rejected,     // the peer's certificate did not verify
  tls_protocol_error,           // a TLS record or alert broke the connection
};

const std::error_category& muxio_category() noexcept;

inline std::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), muxio_category()};
}

inline std::error_code errno_code(int err) noexcept {
  return {err, std::system_category()};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like std::expected
  Result(std::error_code ec) : v_(ec) { assert(ec); }  // NOLINT
  Result(Error e) : v_(make_error_code(e)) {}          // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    if (!ok()) throw std::system_error(error());
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!ok()) throw std::system_error(error());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }

  std::error_code error() const noexcept { return ok() ? std::error_code{} : std::get<1>(v_); }

 private:
  std::variant<T, std::error_code> v_;
};

}  // namespace muxio

template <>
struct std::is_error_code_enum<muxio::Error> : std::true_type {};
