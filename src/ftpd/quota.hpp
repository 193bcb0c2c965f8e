// Per-user quotas: bytes and files under the user's home directory.
//
// A user's usage is measured by walking their home (on the offload pool) when first needed and
// again when it may have gone stale (after a delete or rename, or after a while, since other
// programs may change the directory too). Uploads reserve bytes as they arrive, all sessions of
// the user drawing on one QuotaUsage, so two parallel uploads cannot together pass the quota;
// a failed upload gives its reservation back.
#pragma once

#include <cstdint>
#include <mutex>

#include "ftpd/per_user.hpp"
#include "ftpd/vfs.hpp"
#include "muxio/clock.hpp"

namespace muxio::ftpd {

struct QuotaLimits {
  std::uint64_t bytes = 0;  // 0: no limit
  std::uint64_t files = 0;  // 0: no limit
  bool any() const { return bytes != 0 || files != 0; }
};

class QuotaUsage {
 public:
  static constexpr auto kMaxAge = std::chrono::minutes(5);

  bool needs_measuring(TimePoint now = Clock::now()) const;
  void set_measured(std::uint64_t bytes, std::uint64_t files, TimePoint now = Clock::now());
  // After a delete or rename: measure again before the next upload.
  void invalidate();

  // All or nothing: false (and nothing taken) if n more bytes would pass `limit` (0: none).
  bool reserve_bytes(std::uint64_t n, std::uint64_t limit);
  void release_bytes(std::uint64_t n);
  bool reserve_file(std::uint64_t limit);
  void release_file();

  std::uint64_t bytes() const;
  std::uint64_t files() const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t bytes_ = 0;
  std::uint64_t files_ = 0;
  bool valid_ = false;
  TimePoint measured_{};
};

using QuotaRegistry = PerUser<QuotaUsage>;

struct MeasuredUsage {
  std::uint64_t bytes = 0;
  std::uint64_t files = 0;
};

// Blocking (offload pool): the regular files under the Vfs root, symbolic links not followed,
// at most max_depth directories deep.
Result<MeasuredUsage> measure_usage(const Vfs& vfs, unsigned max_depth = 64);

}  // namespace muxio::ftpd
