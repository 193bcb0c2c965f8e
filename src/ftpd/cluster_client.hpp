// ClusterClient: how a node's event loops use the ClusterLedger without blocking. Calls run on a
// few worker threads of its own, each with its own ledger connection (a database that is slow or
// down ties up these threads only, never the offload pool that sessions' disk calls need); a
// heartbeat thread keeps the node alive in the ledger.
//
// A call that cannot be answered in bounded time fails (EIO, ETIMEDOUT, EBUSY) and the caller
// decides: a login is refused with 421, an upload with 451; a ban check that fails lets the
// local AccessGuard decide alone. What needs no answer (a session or reservation given back, a
// commit) is posted and forgotten: if it fails, the row stays until the node leaves or restarts,
// and counts against the user meanwhile, which errs on the safe side.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ftpd/cluster_ledger.hpp"
#include "ftpd/offload_to.hpp"
#include "muxio/clock.hpp"
#include "muxio/task.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpd {

class ClusterClient {
 public:
  struct Options {
    std::string conninfo;
    std::string node;
    std::chrono::seconds timeout{5};  // bounds each round trip and each wait in the queue
    std::size_t connections = 2;
  };
  using Warn = std::function<void(const std::string&)>;

  ClusterClient(const Options& options, Warn warn);
  // Leaves the cluster: this node's sessions and reservations go from the ledger.
  ~ClusterClient();
  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  // Blocking, once, before the loops run: drops what an earlier run of this node held and starts
  // the heartbeat.
  std::error_code join(std::string* error);

  const std::string& node() const { return options_.node; }
  std::uint64_t next_upload_id() { return next_upload_.fetch_add(1); }

  Task<Result<ClusterLedger::Claim>> claim_session(std::uint64_t session, std::string user,
                                                   std::uint64_t limit);
  void release_session(std::uint64_t session);

  Task<Result<ClusterLedger::Failures>> record_failure(std::string address, unsigned max_failures,
                                                       std::chrono::seconds ban);
  Task<Result<std::int64_t>> ban_seconds(std::string address);

  Task<Result<ClusterLedger::QuotaState>> quota_state(std::string user);
  Task<std::error_code> quota_measured(std::string user, std::uint64_t changes, std::uint64_t bytes,
                                       std::uint64_t files);
  Task<Result<ClusterLedger::Grant>> quota_grant(ClusterLedger::GrantRequest request);
  void quota_commit(std::uint64_t upload, std::string user, std::uint64_t written,
                    std::uint64_t replaced, bool new_file, bool measure_again);
  void quota_release(std::uint64_t upload);
  void quota_invalidate(std::string user);

 private:
  // Runs fn(ledger, error) on a worker with a borrowed ledger; fn returns a Result or an
  // error_code. Failures are logged once, with what was asked.
  template <class R, class F>
  Task<R> call(const char* what, F fn);
  // Skipped once the node is leaving (leave() drops its rows), unless `always`: a commit adds
  // stored usage that leave() cannot.
  template <class F>
  void post(const char* what, F fn, bool always = false);
  std::unique_ptr<ClusterLedger> borrow();
  void give_back(std::unique_ptr<ClusterLedger> ledger);
  void beat();

  Options options_;
  Warn warn_;
  std::atomic<std::uint64_t> next_upload_{1};
  std::atomic<bool> leaving_{false};
  std::mutex ledgers_mutex_;
  std::vector<std::unique_ptr<ClusterLedger>> idle_;
  std::unique_ptr<ClusterLedger> heartbeat_ledger_;
  std::mutex beat_mutex_;
  std::condition_variable beat_wake_;
  std::thread heartbeat_;
  ThreadPool pool_;  // last: joined before the ledgers it uses go
};

}  // namespace muxio::ftpd
