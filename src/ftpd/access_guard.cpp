#include "ftpd/access_guard.hpp"

#include <algorithm>
#include <utility>

namespace muxio::ftpd {

using namespace std::chrono_literals;

AccessGuard::Slot::Slot(AccessGuard* guard, Kind kind, std::string key)
    : guard_(guard), kind_(kind), key_(std::move(key)) {}

AccessGuard::Slot::Slot(Slot&& other) noexcept
    : guard_(std::exchange(other.guard_, nullptr)),
      kind_(other.kind_),
      key_(std::move(other.key_)) {}

AccessGuard::Slot& AccessGuard::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    guard_ = std::exchange(other.guard_, nullptr);
    kind_ = other.kind_;
    key_ = std::move(other.key_);
  }
  return *this;
}

AccessGuard::Slot::~Slot() {
  release();
}

void AccessGuard::Slot::release() {
  if (guard_ != nullptr) std::exchange(guard_, nullptr)->release(kind_, key_);
}

AccessGuard::AccessGuard(AccessLimits limits, Now now) : now_(std::move(now)), limits_(limits) {}

void AccessGuard::set_limits(const AccessLimits& limits) {
  std::lock_guard lock(mutex_);
  limits_ = limits;
}

AccessGuard::Admission AccessGuard::admit_connection(const std::string& ip) {
  TimePoint now = now_();
  std::lock_guard lock(mutex_);
  if (banned_locked(ip, now)) return {Refusal::banned, {}};
  if (limits_.max_sessions != 0 && sessions_ >= limits_.max_sessions) {
    return {Refusal::too_many_sessions, {}};
  }
  std::size_t& from_ip = sessions_by_address_[ip];
  if (limits_.max_sessions_per_ip != 0 && from_ip >= limits_.max_sessions_per_ip) {
    return {Refusal::too_many_from_address, {}};  // from_ip > 0: the entry was there already
  }
  ++from_ip;
  ++sessions_;
  return {Refusal::none, Slot(this, Slot::Kind::address, ip)};
}

AccessGuard::Admission AccessGuard::admit_user(const std::string& user,
                                               std::optional<std::size_t> max_sessions) {
  std::lock_guard lock(mutex_);
  const std::size_t limit = max_sessions.value_or(limits_.max_sessions_per_user);
  std::size_t& of_user = sessions_by_user_[user];
  if (limit != 0 && of_user >= limit) {
    return {Refusal::too_many_for_user, {}};
  }
  ++of_user;
  return {Refusal::none, Slot(this, Slot::Kind::user, user)};
}

void AccessGuard::release(Slot::Kind kind, const std::string& key) {
  std::lock_guard lock(mutex_);
  auto& table = kind == Slot::Kind::address ? sessions_by_address_ : sessions_by_user_;
  auto it = table.find(key);
  if (it == table.end()) return;
  if (--it->second == 0) table.erase(it);
  if (kind == Slot::Kind::address) --sessions_;
}

AccessGuard::FailureRecord* AccessGuard::failure_record_locked(const std::string& ip,
                                                               TimePoint now) {
  auto it = failures_.find(ip);
  if (it == failures_.end()) {
    if (failures_.size() >= limits_.max_tracked_addresses) {
      drop_stale_failures(now);
      if (failures_.size() >= limits_.max_tracked_addresses) return nullptr;
    }
    it = failures_.emplace(ip, FailureRecord{}).first;
  }
  return &it->second;
}

unsigned AccessGuard::record_login_failure(const std::string& ip) {
  TimePoint now = now_();
  std::lock_guard lock(mutex_);
  FailureRecord* record = failure_record_locked(ip, now);
  if (record == nullptr) return 0;
  FailureRecord& r = *record;
  if (now - r.last_failure >= limits_.ban_seconds) r.failures = 0;  // forgotten: a quiet spell
  r.last_failure = now;
  unsigned failures = ++r.failures;
  if (limits_.max_login_failures != 0 && failures >= limits_.max_login_failures) {
    r.banned_until = now + limits_.ban_seconds;
    r.failures = 0;  // after the ban, a fresh start
  }
  return failures;
}

void AccessGuard::ban(const std::string& ip, Duration duration) {
  TimePoint now = now_();
  std::lock_guard lock(mutex_);
  FailureRecord* record = failure_record_locked(ip, now);
  if (record == nullptr) return;
  FailureRecord& r = *record;
  r.last_failure = now;
  r.failures = 0;
  r.banned_until = std::max(r.banned_until, now + duration);
}

bool AccessGuard::is_banned(const std::string& ip) {
  TimePoint now = now_();
  std::lock_guard lock(mutex_);
  return banned_locked(ip, now);
}

bool AccessGuard::banned_locked(const std::string& ip, TimePoint now) {
  auto it = failures_.find(ip);
  if (it == failures_.end()) return false;
  if (is_stale(it->second, now)) {
    failures_.erase(it);
    return false;
  }
  return now < it->second.banned_until;
}

bool AccessGuard::is_stale(const FailureRecord& r, TimePoint now) const {
  return now >= r.banned_until && now - r.last_failure >= limits_.ban_seconds;
}

void AccessGuard::drop_stale_failures(TimePoint now) {
  // A full table means a flood of addresses: sweep at most once a second, not on every failure.
  if (now < next_sweep_) return;
  next_sweep_ = now + 1s;
  std::erase_if(failures_, [&](const auto& entry) { return is_stale(entry.second, now); });
}

Duration AccessGuard::login_failure_delay(unsigned failures) {
  if (failures == 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(1s * (1u << std::min(failures - 1, 3u)));
}

std::string_view AccessGuard::describe(Refusal refusal) {
  switch (refusal) {
    case Refusal::none:
      return "";
    case Refusal::banned:
      return "Too many failed logins from your address; try again later.";
    case Refusal::too_many_sessions:
      return "Too many users connected; try again later.";
    case Refusal::too_many_from_address:
      return "Too many connections from your address.";
    case Refusal::too_many_for_user:
      return "Too many sessions for this user.";
    case Refusal::user_store_unavailable:
      return "Service not available: the user database does not answer; try again later.";
  }
  return "Access refused.";
}

std::size_t AccessGuard::sessions() const {
  std::lock_guard lock(mutex_);
  return sessions_;
}

std::size_t AccessGuard::tracked_addresses() const {
  std::lock_guard lock(mutex_);
  return failures_.size();
}

}  // namespace muxio::ftpd
