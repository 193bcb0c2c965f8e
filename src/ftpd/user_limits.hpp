// UserLimits: one account's overrides of the limits that are otherwise global (rates, quotas,
// sessions). Each is optional: absent (a NULL column in a database store) means "the server's
// setting"; a present 0 means "no limit" for this user, as it does globally.
#pragma once

#include <cstdint>
#include <optional>

#include "ftpd/bandwidth.hpp"
#include "ftpd/quota.hpp"

namespace muxio::ftpd {

struct UserLimits {
  std::optional<std::uint64_t> download_rate;       // bytes/s per session
  std::optional<std::uint64_t> upload_rate;         // bytes/s per session
  std::optional<std::uint64_t> user_download_rate;  // bytes/s over all the user's sessions
  std::optional<std::uint64_t> user_upload_rate;
  std::optional<std::uint64_t> quota_bytes;
  std::optional<std::uint64_t> quota_files;
  std::optional<std::uint64_t> max_sessions;  // logged-in sessions of the account

  BandwidthLimits bandwidth(const BandwidthLimits& global) const {
    return {download_rate.value_or(global.session_download),
            upload_rate.value_or(global.session_upload),
            user_download_rate.value_or(global.user_download),
            user_upload_rate.value_or(global.user_upload)};
  }
  QuotaLimits quota(const QuotaLimits& global) const {
    return {quota_bytes.value_or(global.bytes), quota_files.value_or(global.files)};
  }
};

}  // namespace muxio::ftpd
