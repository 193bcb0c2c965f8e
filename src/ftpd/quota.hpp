// Per-user quotas: bytes and files under the user's home directory.
//
// A user's usage is measured by walking their home (on the offload pool) when first needed and
// again when it may have gone stale (after a delete or rename, or after a while, since other
// programs may change the directory too). Uploads reserve bytes as they arrive, all sessions of
// the user drawing on one QuotaUsage, so two parallel uploads cannot together pass the quota;
// a failed upload gives its reservation back, a complete one commits it. A measurement replaces
// only what is stored, never what uploads in progress reserved: a walk that ends during another
// session's upload does not let that upload pass the quota.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "ftpd/per_user.hpp"
#include "ftpd/vfs.hpp"
#include "muxio/clock.hpp"
#include "muxio/task.hpp"

namespace muxio::ftpd {

struct QuotaLimits {
  std::uint64_t bytes = 0;  // 0: no limit
  std::uint64_t files = 0;  // 0: no limit
  bool any() const { return bytes != 0 || files != 0; }
};

class QuotaUsage {
 public:
  static constexpr auto kMaxAge = std::chrono::minutes(5);

  // What changed while a walk of the home ran: taken before the walk, given to set_measured.
  struct MeasureTicket {
    std::uint64_t changes = 0;
    std::uint64_t committed_bytes = 0;
    std::uint64_t committed_files = 0;
  };

  bool needs_measuring(TimePoint now = Clock::now()) const;
  MeasureTicket start_measuring() const;
  // The walk found `bytes` and `files` stored. Uploads in progress keep their reservations (their
  // temporaries are not counted by the walk); what was committed during the walk is added, since
  // the walk may have missed it, and then the usage is measured again before the next upload.
  void set_measured(const MeasureTicket& ticket, std::uint64_t bytes, std::uint64_t files,
                    TimePoint now = Clock::now());
  // After a delete or rename: measure again before the next upload.
  void invalidate();

  // An upload in progress. All or nothing: false (and nothing taken) if n more bytes would pass
  // `limit` (0: none).
  bool reserve_bytes(std::uint64_t n, std::uint64_t limit);
  bool reserve_file(std::uint64_t limit);
  // A failed upload gives back what it reserved.
  void release(std::uint64_t bytes, std::uint64_t files);
  // A complete upload: what it reserved is now stored, and the file it replaced (forgotten
  // before) is gone.
  void commit(std::uint64_t bytes, std::uint64_t files, std::uint64_t replaced = 0);
  // A file that a plain STOR replaces stops counting while the upload runs (a walk meanwhile
  // still finds it: it is subtracted); if the upload fails, the old file counts again.
  void forget_stored(std::uint64_t bytes);
  void restore_stored(std::uint64_t bytes);

  // Stored plus reserved.
  std::uint64_t bytes() const;
  std::uint64_t files() const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t stored_bytes_ = 0;
  std::uint64_t stored_files_ = 0;
  std::uint64_t reserved_bytes_ = 0;
  std::uint64_t reserved_files_ = 0;
  std::uint64_t forgotten_bytes_ = 0;
  // Counters a walk compares: any change to what is stored, and all bytes and files committed.
  std::uint64_t changes_ = 0;
  std::uint64_t committed_bytes_ = 0;
  std::uint64_t committed_files_ = 0;
  bool valid_ = false;
  TimePoint measured_{};
};

// A quota kept beyond this node (a cluster's ledger, cluster_quota.hpp): it grants an upload
// bytes ahead of what it writes, and learns at the end whether the upload was committed.
class SharedQuota {
 public:
  virtual ~SharedQuota() = default;
  // At least n more bytes for the upload: how many were granted, 0 when the quota refuses them;
  // an error when the ledger does not answer.
  virtual Task<Result<std::uint64_t>> grant(std::uint64_t n) = 0;
  // The upload is complete with `written` bytes; measure_again as in QuotaReservation::commit.
  virtual void commit(std::uint64_t written, bool measure_again) = 0;
  // The upload failed: what it was granted goes back.
  virtual void release() = 0;
};

// What one upload has taken from its user's QuotaUsage: a file slot for a new name, the bytes
// written so far, and the size of the file a plain STOR replaces (which stops counting while
// the upload runs). Given back unless committed: a failed upload, and one destroyed mid-way
// (its session gone at a forced shutdown), leave the usage as it was. Owned by the upload's
// Transfer (transfer.hpp); movable, not copyable. Default-constructed it holds nothing: a
// server without quotas.
class QuotaReservation {
 public:
  enum class Refusal { none, files, bytes };

  QuotaReservation() = default;
  // Takes a file slot unless the upload's name `exists`; forgets `replaced` bytes (the size of
  // the file a plain STOR replaces, else 0). When a limit refuses, `*refusal` says which one and
  // nothing is held.
  QuotaReservation(std::shared_ptr<QuotaUsage> usage, const QuotaLimits& limits, bool exists,
                   std::uint64_t replaced, Refusal* refusal);
  // A reservation kept by a SharedQuota that has granted `granted` bytes already (the file slot
  // and the replaced file are the shared quota's to account for).
  QuotaReservation(std::unique_ptr<SharedQuota> shared, std::uint64_t granted);
  ~QuotaReservation() { release(); }
  QuotaReservation(QuotaReservation&& other) noexcept;
  QuotaReservation& operator=(QuotaReservation&& other) noexcept;
  QuotaReservation(const QuotaReservation&) = delete;
  QuotaReservation& operator=(const QuotaReservation&) = delete;

  // n more bytes written; false (and nothing taken) if they would pass the byte limit, or, for a
  // shared quota, if they pass what was granted so far: then take_granted(n) asks for more and
  // says EDQUOT when the quota refuses them, EIO when it cannot be asked.
  bool take(std::uint64_t n);
  Task<std::error_code> take_granted(std::uint64_t n);
  // The upload failed: everything goes back.
  void release();
  // The upload is complete: what it reserved is now stored. `measure_again` when the file was
  // written in place, whose old size is no longer known.
  void commit(bool measure_again);

 private:
  std::shared_ptr<QuotaUsage> usage_;    // null: nothing held here
  std::unique_ptr<SharedQuota> shared_;  // or held there
  std::uint64_t granted_ = 0;            // by shared_: reserved_ may grow up to it
  std::uint64_t byte_limit_ = 0;
  bool file_reserved_ = false;  // a new name: one more file
  std::uint64_t reserved_ = 0;  // bytes written so far
  std::uint64_t replaced_ = 0;  // size of the file a plain STOR replaces, released up front
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
