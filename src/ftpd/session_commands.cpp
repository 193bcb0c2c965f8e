// Access control, session parameters and data-connection set-up.
#include <algorithm>
#include <charconv>
#include <filesystem>

#include "ftp/host_port.hpp"
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
  if (server_.access.is_banned(peer_.ip())) {
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
    co_await sleep_for(AccessGuard::login_failure_delay(failures));
    bool banned = server_.access.is_banned(peer_.ip());
    server_.metrics.login(banned ? Metrics::Login::banned : Metrics::Login::failed);
    if (banned) {
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
    co_await reply(530, "Login incorrect: home directory unavailable.");
    co_return;
  }
  vfs_ = std::move(*vfs);
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

// A 421 says why and ends the session: the client may come back later.
Task<void> Session::refuse_and_close(Refusal why) {
  log("refused: " + std::string(AccessGuard::describe(why)));
  end_outcome_ = Metrics::Ended::refused;
  quitting_ = true;
  co_await reply(421, AccessGuard::describe(why));
}

Task<void> Session::cmd_quit(const std::string&) {
  if (transfer_ && !transfer_.done()) (void)co_await transfer_.finish();
  quitting_ = true;
  co_await reply(221, "Goodbye.");
}

Task<void> Session::cmd_noop(const std::string&) {
  co_await reply(200, "NOOP ok.");
}

Task<void> Session::cmd_syst(const std::string&) {
  co_await reply(215, "UNIX Type: L8");
}

std::vector<std::string> Session::feature_lines() const {
  std::vector<std::string> lines;
  if (server_.tls) lines.emplace_back(" AUTH TLS");
  lines.emplace_back(" EPRT");
  lines.emplace_back(" EPSV");
  lines.emplace_back(" HASH " + hash_feature_list(hash_algorithm_));
  lines.emplace_back(" MDTM");
  lines.emplace_back(" MFMT");
  lines.emplace_back(" MLST " + ftp::mlst_fact_names(mlst_facts_, true));
  lines.emplace_back(" PASV");
  if (server_.tls) {
    lines.emplace_back(" PBSZ");
    lines.emplace_back(" PROT");
  }
  lines.emplace_back(" REST STREAM");
  lines.emplace_back(" SIZE");
  lines.emplace_back(" TVFS");
  lines.emplace_back(" UTF8");
  return lines;
}

Task<void> Session::cmd_feat(const std::string&) {
  const std::vector<std::string> features = feature_lines();
  co_await reply_lines(211, "Features:", features, "End");
}

Task<void> Session::cmd_opts(const std::string& arg) {
  std::string a = ftp::ascii_upper(arg);
  if (a == "UTF8 ON" || a == "UTF8" || a == "UTF-8 ON") {
    co_await reply(200, "Always in UTF8 mode.");
  } else if (a.rfind("MLST", 0) == 0 && (a.size() == 4 || a[4] == ' ')) {
    // RFC 3659 §7.9: the facts named (unknown ones ignored) are the ones MLST and MLSD show.
    mlst_facts_ = ftp::parse_mlst_facts(a.size() > 5 ? std::string_view(arg).substr(5) : "");
    co_await reply(200, "MLST OPTS " + ftp::mlst_fact_names(mlst_facts_));
  } else if (a.rfind("HASH", 0) == 0 && (a.size() == 4 || a[4] == ' ')) {
    const std::string_view name = a.size() > 5 ? std::string_view(arg).substr(5) : "";
    co_await opts_hash(name);
  } else {
    co_await reply(501, "Option not understood.");
  }
}

Task<void> Session::cmd_help(const std::string&) {
  static const std::vector<std::string> kHelp = {
      " ABOR ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HASH HELP LIST MDTM MFMT",
      " MKD  MLSD MLST MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REST RETR",
      " RMD  RNFR RNTO SIZE STAT STOR STOU STRU SYST TYPE USER XCRC XCUP XCWD",
      " XMD5 XMKD XPWD XRMD XSHA1 XSHA256"};
  co_await reply_lines(214, "The following commands are recognized.", kHelp, "Help OK.");
}

Task<void> Session::cmd_stat(const std::string& arg) {
  if (!arg.empty()) {
    if (!logged_in_) {
      co_await reply(530, "Please login with USER and PASS.");
      co_return;
    }
    co_await stat_path(arg);
    co_return;
  }
  std::vector<std::string> body;
  body.push_back(" Connected to " + peer_.ip());
  body.push_back(" Logged in as " + (logged_in_ ? user_name_ : std::string("nobody")));
  body.push_back(std::string(" TYPE: ") + (binary_ ? "BINARY" : "ASCII") +
                 ", STRUcture: File, MODE: Stream");
  if (transfer_ && !transfer_.done()) {
    body.push_back(" Transfer in progress: " + transfer_what_ + ", " +
                   std::to_string(transfer_bytes_) + " bytes so far");
  } else {
    body.push_back(" No data connection");
  }
  co_await reply_lines(211, "muxftpd status:", body, "End of status");
}

Task<void> Session::cmd_type(const std::string& arg) {
  std::string a = ftp::ascii_upper(arg);
  if (a == "I" || a == "L 8" || a == "L8") {
    binary_ = true;
    co_await reply(200, "Switching to Binary mode.");
  } else if (a == "A" || a == "A N") {
    binary_ = false;
    co_await reply(200, "Switching to ASCII mode.");
  } else if (a.empty()) {
    co_await reply(501, "TYPE needs an argument.");
  } else {
    co_await reply(504, "Type not supported.");
  }
}

Task<void> Session::cmd_mode(const std::string& arg) {
  if (ftp::ascii_upper(arg) == "S") {
    co_await reply(200, "Mode set to S.");
  } else {
    co_await reply(504, "Only stream mode is supported.");
  }
}

Task<void> Session::cmd_stru(const std::string& arg) {
  if (ftp::ascii_upper(arg) == "F") {
    co_await reply(200, "Structure set to F.");
  } else {
    co_await reply(504, "Only file structure is supported.");
  }
}

Task<void> Session::cmd_allo(const std::string&) {
  co_await reply(202, "ALLO not needed: storage is allocated on demand.");
}

Task<void> Session::cmd_rest(const std::string& arg) {
  std::uint64_t offset = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), offset);
  if (arg.empty() || ec != std::errc() || end != arg.data() + arg.size()) {
    co_await reply(501, "REST needs a byte offset.");
    co_return;
  }
  restart_offset_ = offset;
  co_await reply(350, "Restarting at " + std::to_string(offset) + ". Send STOR or RETR.");
}

Task<void> Session::cmd_abor(const std::string&) {
  if (transfer_ && !transfer_.done()) {
    transfer_.cancel();
    (void)co_await transfer_.finish();  // the transfer replies 426 as it ends
    co_await reply(226, "ABOR successful.");
    co_return;
  }
  data_.reset();
  co_await reply(225, "No transfer to abort.");
}

Task<void> Session::cmd_pasv(const std::string&) {
  if (epsv_all_) {
    co_await reply(501, "PASV not allowed after EPSV ALL.");
    co_return;
  }
  // What the client is told (passive_address, overrides, PROXY destination, network_config.hpp).
  // An IPv6 client cannot be told an address in PASV form (RFC 2428: EPSV).
  auto local = control_socket().local_address();
  std::optional<SocketAddress> advertised;
  if (local && ftp::has_ipv4_form(peer_)) {
    advertised = passive_ip_for(settings_->network, peer_, *local, proxy_destination_);
  }
  if (!advertised) {
    co_await reply(522, "Network protocol not supported, use EPSV.");
    co_return;
  }
  auto addr = data_.listen_passive();
  if (!addr) {
    co_await reply(425, "Cannot open passive connection.");
    co_return;
  }
  advertised->set_port(advertised_passive_port(settings_->network, addr->port()));
  co_await reply(227, ftp::format_pasv_reply_text(*advertised));
}

Task<void> Session::cmd_epsv(const std::string& arg) {
  std::string a = ftp::ascii_upper(arg);
  if (a == "ALL") {
    epsv_all_ = true;
    co_await reply(200, "EPSV ALL ok: only EPSV from now on.");
    co_return;
  }
  auto local = control_socket().local_address();
  if (!a.empty() && local && a != (local->is_v6() ? "2" : "1")) {
    co_await reply(522, std::string("Network protocol not supported, use (") +
                            (local->is_v6() ? "2" : "1") + ")");
    co_return;
  }
  auto addr = data_.listen_passive();
  if (!addr) {
    co_await reply(425, "Cannot open passive connection.");
    co_return;
  }
  co_await reply(
      229, ftp::format_epsv_reply_text(advertised_passive_port(settings_->network, addr->port())));
}

Task<void> Session::cmd_port(const std::string& arg) {
  if (epsv_all_) {
    co_await reply(501, "PORT not allowed after EPSV ALL.");
    co_return;
  }
  auto addr = ftp::parse_port_arg(arg);
  if (!addr) {
    co_await reply(501, "Syntax error in PORT arguments.");
    co_return;
  }
  if (data_.set_active(*addr)) {
    co_await reply(500, "Illegal PORT command: only your own address, port 1024 or above.");
    co_return;
  }
  co_await reply(200, "PORT command successful. Consider using PASV.");
}

Task<void> Session::cmd_eprt(const std::string& arg) {
  if (epsv_all_) {
    co_await reply(501, "EPRT not allowed after EPSV ALL.");
    co_return;
  }
  auto addr = ftp::parse_eprt_arg(arg);
  if (!addr) {
    co_await reply(522, "Network protocol not supported, use (1,2).");
    co_return;
  }
  if (data_.set_active(*addr)) {
    co_await reply(500, "Illegal EPRT command: only your own address, port 1024 or above.");
    co_return;
  }
  co_await reply(200, "EPRT command successful.");
}

}  // namespace muxio::ftpd
