// AccessGuard: who may hold a session of the server, shared by the sessions of every loop.
//
// - Session limits: in total, per client address (both checked at connect) and per user (checked
//   after a correct password, as pure-ftpd does). A session holds its places through Slots
//   (RAII), so every way a session ends gives them back.
// - Brute-force defence: failed logins are counted per client address; a login failure is
//   answered after a delay that grows with that count (login_failure_delay), and an address
//   that reaches max_login_failures is banned for ban_seconds. The count is forgotten after
//   ban_seconds without a failure, and when a ban starts. A successful login resets nothing:
//   an attacker who owns one account cannot wipe the count of the address by logging in with it.
//
// Thread-safe: one mutex, held for a map lookup or two (never across IO). Bounded memory: an
// address is in the session table only while it has sessions (at most max_sessions of them);
// the failure table keeps at most max_tracked_addresses addresses and drops the stale ones when
// it is full. Past that (a flood from more addresses than that within ban_seconds), new
// addresses are not counted: their failures are still delayed by the session's own count, and
// the bans already in place stay. Time comes from an injectable clock, for the unit tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "muxio/clock.hpp"

namespace muxio::ftpd {

struct AccessLimits {
  std::size_t max_sessions = 2000;        // sessions of the whole server; 0: no limit
  std::size_t max_sessions_per_ip = 50;   // sessions from one client address; 0: no limit
  std::size_t max_sessions_per_user = 0;  // logged-in sessions of one named account; 0: no limit
  unsigned max_login_failures = 10;       // failures from one address that start a ban; 0: never
  std::chrono::seconds ban_seconds{600};  // how long a ban lasts and failures are remembered
  std::size_t max_tracked_addresses = 65536;  // size of the failure table
};

// Why a session was refused; describe() gives the text of its 421 reply.
enum class Refusal {
  none,
  banned,
  too_many_sessions,
  too_many_from_address,
  too_many_for_user,
  user_store_unavailable,  // a database user store did not answer (never for a connection)
};

class AccessGuard {
 public:
  using Now = std::function<TimePoint()>;

  // One place held by a session: for its client address (from connect) or its user (from
  // login). Move-only; the place is given back when the slot is destroyed or assigned over.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    ~Slot();
    bool held() const { return guard_ != nullptr; }

   private:
    friend class AccessGuard;
    enum class Kind { address, user };
    Slot(AccessGuard* guard, Kind kind, std::string key);
    void release();

    AccessGuard* guard_ = nullptr;
    Kind kind_ = Kind::address;
    std::string key_;
  };

  struct Admission {
    Refusal refusal = Refusal::none;
    Slot slot;  // held when refusal is none
  };

  explicit AccessGuard(AccessLimits limits = {}, Now now = &Clock::now);
  AccessGuard(const AccessGuard&) = delete;
  AccessGuard& operator=(const AccessGuard&) = delete;

  // Limits apply to sessions admitted from now on; sessions already in keep their places.
  void set_limits(const AccessLimits& limits);

  // A new connection from ip: refused when ip is banned, the server is full or ip has too many.
  Admission admit_connection(const std::string& ip);
  // A correct password for user: refused when the user has too many sessions already, by
  // max_sessions (the user's own limit) if given, else by the global one.
  Admission admit_user(const std::string& user,
                       std::optional<std::size_t> max_sessions = std::nullopt);

  // Counts a failed login from ip and returns the failures of ip so far (0 when the failure
  // table is full and ip is not in it); the one that reaches max_login_failures bans ip.
  unsigned record_login_failure(const std::string& ip);
  bool is_banned(const std::string& ip);
  // A ban decided elsewhere (another node of a cluster, cluster_client.hpp): ip is banned here
  // too for `duration`, so that its next connections are refused before any database is asked.
  void ban(const std::string& ip, Duration duration);

  // How long to wait before answering the n-th failed login: 1 s, doubling, at most 8 s.
  static Duration login_failure_delay(unsigned failures);
  static std::string_view describe(Refusal refusal);

  // For tests and STAT.
  std::size_t sessions() const;
  std::size_t tracked_addresses() const;

 private:
  struct FailureRecord {
    unsigned failures = 0;
    TimePoint last_failure{};
    TimePoint banned_until{};
  };
  bool is_stale(const FailureRecord& r, TimePoint now) const;
  // ip's record, made if there is room in the table; null when the table is full.
  FailureRecord* failure_record_locked(const std::string& ip, TimePoint now);
  bool banned_locked(const std::string& ip, TimePoint now);
  void drop_stale_failures(TimePoint now);
  void release(Slot::Kind kind, const std::string& key);

  Now now_;
  mutable std::mutex mutex_;
  AccessLimits limits_;
  std::size_t sessions_ = 0;
  std::unordered_map<std::string, std::size_t> sessions_by_address_;  // only addresses with some
  std::unordered_map<std::string, std::size_t> sessions_by_user_;     // only users with some
  std::unordered_map<std::string, FailureRecord> failures_;
  TimePoint next_sweep_{};  // a full table is swept at most once a second
};

}  // namespace muxio::ftpd
