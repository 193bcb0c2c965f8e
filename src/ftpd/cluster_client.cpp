#include "ftpd/cluster_client.hpp"

namespace muxio::ftpd {
namespace {

// Jobs per worker the queue may hold before calls fail as busy: a database that has stopped
// answering must not gather an unbounded queue of logins.
constexpr std::size_t kMaxQueuedPerWorker = 32;

template <class R>
R failure(std::error_code ec) {
  if constexpr (std::is_same_v<R, std::error_code>) {
    return ec;
  } else {
    return R(ec);
  }
}

template <class R>
std::error_code error_of(const R& r) {
  if constexpr (std::is_same_v<R, std::error_code>) {
    return r;
  } else {
    return r ? std::error_code{} : r.error();
  }
}

}  // namespace

ClusterClient::ClusterClient(const Options& options, Warn warn)
    : options_(options),
      warn_(std::move(warn)),
      heartbeat_ledger_(
          std::make_unique<ClusterLedger>(options.conninfo, options.node, options.timeout)),
      pool_(std::max<std::size_t>(1, options.connections)) {
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    idle_.push_back(
        std::make_unique<ClusterLedger>(options.conninfo, options.node, options.timeout));
  }
}

ClusterClient::~ClusterClient() {
  {
    std::lock_guard lock(beat_mutex_);
    leaving_ = true;  // posted jobs still queued are skipped: leave() covers them
  }
  beat_wake_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
  std::string error;
  if (auto ec = heartbeat_ledger_->leave(&error)) {
    warn_("cluster: leaving: " + error + " (this node's rows go when it starts again)");
  }
}

std::error_code ClusterClient::join(std::string* error) {
  if (auto ec = heartbeat_ledger_->join(error)) return ec;
  heartbeat_ = std::thread([this] { beat(); });
  return {};
}

void ClusterClient::beat() {
  const auto period = ClusterLedger::kNodeTimeout / 4;
  std::unique_lock lock(beat_mutex_);
  while (!beat_wake_.wait_for(lock, period, [this] { return leaving_.load(); })) {
    lock.unlock();
    std::string error;
    if (auto ec = heartbeat_ledger_->heartbeat(&error)) warn_("cluster: heartbeat: " + error);
    lock.lock();
  }
}

std::unique_ptr<ClusterLedger> ClusterClient::borrow() {
  std::lock_guard lock(ledgers_mutex_);
  auto ledger = std::move(idle_.back());  // as many ledgers as workers: one is idle
  idle_.pop_back();
  return ledger;
}

void ClusterClient::give_back(std::unique_ptr<ClusterLedger> ledger) {
  std::lock_guard lock(ledgers_mutex_);
  idle_.push_back(std::move(ledger));
}

template <class R, class F>
Task<R> ClusterClient::call(const char* what, F fn) {
  if (pool_.queued() >= kMaxQueuedPerWorker * pool_.size()) {
    warn_(std::string("cluster: ") + what + ": too many calls waiting");
    co_return failure<R>(errno_code(EBUSY));
  }
  const TimePoint queued_at = Clock::now();
  std::string error;
  R answer = co_await offload_to(pool_, [&]() -> R {
    // The session behind this call has been waiting too long already: no more of its time.
    if (Clock::now() - queued_at > options_.timeout) {
      error = "waited too long for a connection";
      return failure<R>(errno_code(ETIMEDOUT));
    }
    auto ledger = borrow();
    R r = fn(*ledger, &error);
    give_back(std::move(ledger));
    return r;
  });
  if (error_of(answer)) warn_(std::string("cluster: ") + what + ": " + error);
  co_return answer;
}

template <class F>
void ClusterClient::post(const char* what, F fn, bool always) {
  pool_.submit([this, what, always, fn = std::move(fn)] {
    if (leaving_ && !always) return;
    auto ledger = borrow();
    std::string error;
    std::error_code ec = fn(*ledger, &error);
    give_back(std::move(ledger));
    if (ec) warn_(std::string("cluster: ") + what + ": " + error);
  });
}

Task<Result<ClusterLedger::Claim>> ClusterClient::claim_session(std::uint64_t session,
                                                                std::string user,
                                                                std::uint64_t limit) {
  co_return co_await call<Result<ClusterLedger::Claim>>(
      "session claim",
      [&](ClusterLedger& l, std::string* e) { return l.claim_session(session, user, limit, e); });
}

void ClusterClient::release_session(std::uint64_t session) {
  post("session release",
       [session](ClusterLedger& l, std::string* e) { return l.release_session(session, e); });
}

Task<Result<ClusterLedger::Failures>> ClusterClient::record_failure(std::string address,
                                                                    unsigned max_failures,
                                                                    std::chrono::seconds ban) {
  co_return co_await call<Result<ClusterLedger::Failures>>(
      "login failure", [&](ClusterLedger& l, std::string* e) {
        return l.record_failure(address, max_failures, ban, e);
      });
}

Task<Result<std::int64_t>> ClusterClient::ban_seconds(std::string address) {
  co_return co_await call<Result<std::int64_t>>(
      "ban check", [&](ClusterLedger& l, std::string* e) { return l.ban_seconds(address, e); });
}

Task<Result<ClusterLedger::QuotaState>> ClusterClient::quota_state(std::string user) {
  co_return co_await call<Result<ClusterLedger::QuotaState>>(
      "quota usage", [&](ClusterLedger& l, std::string* e) { return l.quota_state(user, e); });
}

Task<std::error_code> ClusterClient::quota_measured(std::string user, std::uint64_t changes,
                                                    std::uint64_t bytes, std::uint64_t files) {
  co_return co_await call<std::error_code>(
      "quota measurement", [&](ClusterLedger& l, std::string* e) {
        return l.quota_measured(user, changes, bytes, files, e);
      });
}

Task<Result<ClusterLedger::Grant>> ClusterClient::quota_grant(ClusterLedger::GrantRequest request) {
  co_return co_await call<Result<ClusterLedger::Grant>>(
      "quota grant", [&](ClusterLedger& l, std::string* e) { return l.quota_grant(request, e); });
}

void ClusterClient::quota_commit(std::uint64_t upload, std::string user, std::uint64_t written,
                                 std::uint64_t replaced, bool new_file, bool measure_again) {
  post(
      "quota commit",
      [=](ClusterLedger& l, std::string* e) {
        return l.quota_commit(upload, user, written, replaced, new_file, measure_again, e);
      },
      true);
}

void ClusterClient::quota_release(std::uint64_t upload) {
  post("quota release",
       [upload](ClusterLedger& l, std::string* e) { return l.quota_release(upload, e); });
}

void ClusterClient::quota_invalidate(std::string user) {
  post("quota invalidation", [user = std::move(user)](ClusterLedger& l, std::string* e) {
    return l.quota_invalidate(user, e);
  });
}

}  // namespace muxio::ftpd
