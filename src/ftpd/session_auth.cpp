// Logging in and out: USER, PASS and QUIT, with the limits that guard a login (bans, the delay
// after failures, the user's session limit) and the 421 that refuses a session. PASS opens the
// user's root (the Vfs) and takes the session's own copy of the user.
#include <algorithm>
#include <filesystem>

#include "ftpd/password.hpp"
#include "ftpd/session.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpd {

bool Session::is_anonymous_login(std::string_view name) const {
  return settings_->anonymous && (name == "anonymous" || name == "ftp");
}

Task<void> Session::cmd_user(const std::string& arg) {
  if (logged_in_) {
    co_await reply(530, "Already logged in; reconnect to change user.");
    co_return;
  }
  if (arg.empty()) {
    co_await reply(501, "USER needs a name.");
    co_return;
  }
  pending_user_ = arg;
  if (is_anonymous_login(arg)) {
    co_await reply(331, "Anonymous login ok, send your e-mail address as password.");
  } else {
    co_await reply(331, "Password required for " + arg + ".");
  }
}

Task<void> Session::cmd_pass(const std::string& arg) {
  if (logged_in_) {
    co_await reply(230, "Already logged in.");
    co_return;
  }
  if (pending_user_.empty()) {
    co_await reply(503, "Login with USER first.");
    co_return;
  }
  std::string name = std::exchange(pending_user_, {});
  // No more guesses from a banned address, on connections opened before the ban too.
  bool banned = server_.access.is_banned(peer_.ip());
  if (!banned && server_.cluster) banned = co_await banned_in_cluster();
  if (banned) {
    server_.metrics.login(Metrics::Login::banned);
    co_await refuse_and_close(Refusal::banned);
    co_return;
  }
  // A snapshot: a SIGHUP may replace the list while the password is checked off the loop.
  std::shared_ptr<const UserDb> users = server_.users();
  User anonymous;
  const User* user = nullptr;
  bool ok = false;
  if (is_anonymous_login(name)) {
    anonymous.name = name;
    anonymous.anonymous = true;
    anonymous.permissions = server_.config.anonymous_permissions;
    anonymous.home = server_.config.anonymous_root;
    user = &anonymous;
    ok = true;
  } else {
    user = users->find(name);
  }
  // Not in memory (users file, --user): the database store, if there is one.
  UserStore::Lookup looked;
  if (user == nullptr && server_.user_store) {
    Task<UserStore::Lookup> lookup = server_.user_store->find(name);
    looked = co_await lookup;
    if (looked.status == UserStore::Lookup::Status::unavailable) {
      server_.log->error("[{}] login of {}: {}", id_, name, looked.error);
      server_.metrics.login(Metrics::Login::unavailable);
      co_await refuse_and_close(Refusal::user_store_unavailable);
      co_return;
    }
    if (looked.status == UserStore::Lookup::Status::found) user = &looked.user;
  }
  if (user != nullptr && !user->anonymous) {
    if (!user->plain_password.empty()) {
      ok = constant_time_equal(arg, user->plain_password);
    } else {
      const std::string& hash = user->password_hash;
      ok = co_await offload([&] { return verify_password(arg, hash); });
    }
  }
  if (!ok) {
    SessionEvent e("login");
    e.user = name;
    e.result = "failed";
    log_event(e, "login failed for " + name);
    // Slows guessing down: the more failures from this address (or on this connection, when the
    // address is not tracked), the longer the wait. The loop serves others meanwhile.
    unsigned failures = server_.access.record_login_failure(peer_.ip());
    failures = std::max(failures, ++login_failures_);
    if (server_.cluster) failures = co_await record_failure_in_cluster(failures);
    co_await sleep_for(AccessGuard::login_failure_delay(failures));
    const bool now_banned = server_.access.is_banned(peer_.ip());
    server_.metrics.login(now_banned ? Metrics::Login::banned : Metrics::Login::failed);
    if (now_banned) {
      co_await refuse_and_close(Refusal::banned);
    } else {
      co_await reply(530, "Login incorrect.");
    }
    co_return;
  }
  // Only a correct password learns that the user has too many sessions (as in pure-ftpd).
  // Anonymous sessions are bounded by the per-address and total limits instead.
  AccessGuard::Slot user_slot;
  if (!user->anonymous) {
    std::optional<std::size_t> max_sessions;  // the user's own limit, if any
    if (user->limits.max_sessions) max_sessions = *user->limits.max_sessions;
    auto admission = server_.access.admit_user(name, max_sessions);
    if (admission.refusal != Refusal::none) {
      co_await refuse_and_close(admission.refusal);
      co_return;
    }
    user_slot = std::move(admission.slot);
    if (server_.cluster) {
      Refusal refusal = co_await claim_place_in_cluster(*user);
      if (refusal != Refusal::none) {
        co_await refuse_and_close(refusal);
        co_return;
      }
    }
  }
  // The user's root: their home, absolute or relative to the server root.
  std::filesystem::path root = server_.config.root;
  if (!user->home.empty()) {
    std::filesystem::path home = user->home;
    root = home.is_absolute() ? home : root / home;
  }
  auto vfs = co_await offload([&] { return Vfs::open_root(root.string()); });
  if (!vfs) {
    server_.log->error("[{}] cannot open root of {}: {}", id_, name, vfs.error().message());
    if (std::exchange(holds_cluster_place_, false)) server_.cluster->release_session(id_);
    co_await reply(530, "Login incorrect: home directory unavailable.");
    co_return;
  }
  vfs_ = std::move(*vfs);
  vfs_.set_node(server_.config.node_name);
  user_slot_ = std::move(user_slot);
  user_ = std::make_shared<const User>(*user);
  user_name_ = name;
  permissions_ = user->permissions;
  quota_limits_ = user->limits.quota(settings_->quota);
  bandwidth_limits_ = user->limits.bandwidth(settings_->bandwidth);
  logged_in_ = true;
  server_.metrics.login(Metrics::Login::ok);
  cwd_ = "/";
  SessionEvent e("login");
  e.result = user->anonymous ? "ok (anonymous)" : "ok";
  log_event(e, std::string("logged in") + (user->anonymous ? " (anonymous)" : ""));
  co_await reply(230, "Login successful.");
}

// A ban another node decided applies here from now on; a ledger that does not answer leaves
// the decision to this node's own AccessGuard (logins need the database anyway).
Task<bool> Session::banned_in_cluster() {
  auto left = co_await server_.cluster->ban_seconds(peer_.ip());
  if (!left || *left <= 0) co_return false;
  server_.access.ban(peer_.ip(), std::chrono::seconds(*left));
  co_return true;
}

// The cluster's count of failures from this address, if it is higher than what this node saw:
// an attacker who rotates nodes meets the same delays and the same ban.
Task<unsigned> Session::record_failure_in_cluster(unsigned failures) {
  const AccessLimits& limits = settings_->limits;
  auto counted = co_await server_.cluster->record_failure(peer_.ip(), limits.max_login_failures,
                                                          limits.ban_seconds);
  if (!counted) co_return failures;
  if (counted->ban_seconds > 0) {
    server_.access.ban(peer_.ip(), std::chrono::seconds(counted->ban_seconds));
  }
  co_return std::max(failures, counted->count);
}

// The user's session limit, counted over every node. A ledger that does not answer refuses the
// login (421, as when the user store does not answer): a limit that cannot be checked is not
// waived.
Task<Refusal> Session::claim_place_in_cluster(const User& user) {
  const std::uint64_t limit = user.limits.max_sessions ? *user.limits.max_sessions
                                                       : settings_->limits.max_sessions_per_user;
  if (limit == 0) co_return Refusal::none;
  auto claim = co_await server_.cluster->claim_session(id_, user.name, limit);
  if (!claim) {
    // The COMMIT may have landed with its answer lost: a place nobody holds would count
    // against the user for as long as this node lives. Giving it back costs nothing if not.
    server_.cluster->release_session(id_);
    co_return Refusal::user_store_unavailable;
  }
  if (*claim == ClusterLedger::Claim::refused) co_return Refusal::too_many_for_user;
  holds_cluster_place_ = true;
  co_return Refusal::none;
}

// A 421 says why and ends the session: the client may come back later.
Task<void> Session::refuse_and_close(Refusal why) {
  log("refused: " + std::string(AccessGuard::describe(why)));
  end_outcome_ = Metrics::Ended::refused;
  quitting_ = true;
  co_await reply(421, AccessGuard::describe(why));
}

Task<void> Session::cmd_quit(const std::string&) {
  if (transfer_running()) (void)co_await transfer_->finish();
  quitting_ = true;
  co_await reply(221, "Goodbye.");
}

}  // namespace muxio::ftpd
