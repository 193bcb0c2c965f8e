// Which errors are worth a new attempt on a fresh session, and which replies refuse a resumed
// upload (so that another way is tried at once instead). TransferRunner (transfer.hpp) asks it;
// how often and after what pause is RunOptions' business.
#pragma once

#include <system_error>

namespace muxio::ftpc {

// Worth a new attempt: a dropped or reset connection, a timeout, 421/425/426/450/451, a short
// transfer. Refused logins, missing files, cancellation are not.
bool is_transient(std::error_code ec) noexcept;

// A server's refusal to continue a file in the way asked (REST + STOR, or APPE), given before any
// data: 451 (ProFTPD without AllowStoreRestart: "Append/Restart not permitted"), 500/501/502/504
// (the command or its argument not implemented), 550 (servers that say "Restart not permitted"
// with it), 554 (RFC 1123: a REST offset STOR cannot use). The upload then tries the next way:
// APPE after REST + STOR, the whole file after APPE, as lftp does.
bool refuses_resumed_store(std::error_code ec) noexcept;

}  // namespace muxio::ftpc
