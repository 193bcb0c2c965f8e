#include "ftpc/retry_policy.hpp"

#include <cerrno>

#include "ftpc/client_errors.hpp"
#include "muxio/result.hpp"

namespace muxio::ftpc {

bool is_transient(std::error_code ec) noexcept {
  if (!ec) return false;
  if (int code = reply_code_of(ec)) {
    return code == 421 || code == 425 || code == 426 || code == 450 || code == 451;
  }
  if (ec == ClientError::closed || ec == ClientError::short_transfer ||
      ec == ClientError::protocol) {
    return true;
  }
  if (ec == Error::timed_out) return true;
  if (ec.category() == std::system_category()) {
    switch (ec.value()) {
      case ECONNRESET:
      case ECONNREFUSED:
      case ECONNABORTED:
      case EPIPE:
      case ETIMEDOUT:
      case EHOSTUNREACH:
      case ENETUNREACH:
        return true;
      default:
        return false;
    }
  }
  return false;
}

bool refuses_resumed_store(std::error_code ec) noexcept {
  switch (reply_code_of(ec)) {
    case 451:
    case 500:
    case 501:
    case 502:
    case 504:
    case 550:
    case 554:
      return true;
    default:
      return false;
  }
}

}  // namespace muxio::ftpc
