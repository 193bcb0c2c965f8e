// Which errors are worth a new attempt on a fresh session. TransferRunner (transfer.hpp) asks it
// before each retry; how often and after what pause is RunOptions' business.
#pragma once

#include <system_error>

namespace muxio::ftpc {

// Worth a new attempt: a dropped or reset connection, a timeout, 421/425/426/450/451, a short
// transfer. Refused logins, missing files, cancellation are not.
bool is_transient(std::error_code ec) noexcept;

}  // namespace muxio::ftpc
