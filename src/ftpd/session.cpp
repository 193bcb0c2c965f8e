// The session's control loop: greeting, reading command lines, dispatching, replying.
#include "ftpd/session.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>

#include "ftp/reply.hpp"
#include "ftp/vpath.hpp"
#include "muxio/timer.hpp"

namespace muxio::ftpd {

namespace {
// A client that pipelines commands (or an endless line) keeps a session busy without it ever
// waiting for IO; going back to the event loop every so many turns lets the other sessions of
// the loop run meanwhile.
constexpr unsigned kTurnsBeforeYield = 64;
}  // namespace

Session::Session(EventLoop& loop, ServerContext& server, TcpStream control, SocketAddress peer)
    : loop_(loop),
      server_(server),
      settings_(server.settings()),
      control_tcp_(std::move(control)),
      peer_(peer),
      id_(server.next_session_id.fetch_add(1)),
      reader_(settings_->max_command_line),
      data_(loop, *settings_, *control_tcp_.local_address(), peer,
            [this](const std::string& m) { server_.log->warn("[{}] {}", id_, m); }) {
  server_.sessions_open.fetch_add(1);
  tls_ = server_.tls_context();
  server_.metrics.session_started();
  login_deadline_ = Clock::now() + settings_->login_timeout;
  // A graceful shutdown finds the sessions of a loop here (Server::drain).
  if (auto it = server_.sessions.find(&loop); it != server_.sessions.end()) {
    siblings_ = &it->second;
    siblings_->insert(this);
  }
  // Clients send ABOR after a Telnet Synch whose last byte is TCP urgent data; inline, it stays
  // part of the command line instead of being dropped.
  int one = 1;
  ::setsockopt(control_tcp_.fd(), SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);
}

Session::~Session() {
  // run() ends its transfer; only a loop destroyed with both suspended gets here with the
  // transfer still running. It refers to this session (the reply mutex, the settings, the Vfs):
  // it goes first, and an upload's quota reservation goes back with it.
  transfer_.reset();
  if (holds_cluster_place_) server_.cluster->release_session(id_);
  if (siblings_ != nullptr) siblings_->erase(this);
  server_.sessions_open.fetch_sub(1);
  auto outcome = end_outcome_;
  if (outcome == Metrics::Ended::count) {
    outcome = quitting_               ? Metrics::Ended::quit
              : server_.shutting_down ? Metrics::Ended::shutdown
                                      : Metrics::Ended::closed;
  }
  server_.metrics.session_ended(outcome);
}

void Session::shut_down() {
  // Idle: the wait for the next command ends now, and read_command_line sees the shutdown. Busy
  // with a command: it sees it when that is done.
  if (waiting_for_command_) run_context_->interrupt(make_error_code(Error::cancelled));
}

void Session::log(const std::string& message) const {
  if (json_logs()) {
    SessionEvent e("session");
    e.message = message;
    log_event(e, message);
    return;
  }
  server_.log->info("[{}] {} {}: {}", id_, peer_.to_string(), user_name_.empty() ? "-" : user_name_,
                    message);
}

Task<void> Session::run() {
  run_context_ = co_await current_context();
  log_event(SessionEvent("connect"), "connected");
  if (implicit_tls_) {
    bool secured = co_await start_control_tls();
    if (!secured) co_return;
    pbsz_set_ = true;
    protect_data_ = true;
  }
  co_await reply(220, settings_->banner);
  for (unsigned turn = 1; !quitting_; ++turn) {
    if (turn % kTurnsBeforeYield == 0) (void)co_await sleep_for(Duration::zero());
    auto line = co_await read_command_line();
    if (!line) break;
    co_await dispatch(*line);
  }
  if (transfer_running()) {
    // The client is gone, or the server shuts down: then the transfer may finish within the
    // grace period (the server cancels it when that ends).
    if (!server_.shutting_down) transfer_->cancel();
    (void)co_await transfer_->finish();
  }
  TaskContext* ctx = co_await current_context();
  if ((ctx->cancel_requested || server_.shutting_down) && !quitting_) {
    co_await shielded(reply(421, "Server shutting down; closing control connection."));
  }
  SessionEvent ended("disconnect");
  ended.duration = std::chrono::duration<double>(Clock::now() - connected_at_).count();
  ended.result = quitting_ ? "quit" : "closed";
  log_event(ended, "disconnected");
}

Task<std::optional<std::string>> Session::read_command_line() {
  // Small on purpose: this frame lives as long as the session idles, in every idle session;
  // longer command lines simply take several reads (the LineReader joins them).
  std::array<std::byte, 512> buf;
  for (unsigned turn = 1;; ++turn) {
    if (turn % kTurnsBeforeYield == 0) (void)co_await sleep_for(Duration::zero());
    // Cut for not reading its replies: what the client sent meanwhile is not served.
    if (control_cut_) co_return std::nullopt;
    // Checked before every line, not only when a read times out: a client that trickles bytes
    // or sends NOOPs (slowloris) must not keep a session without logging in.
    if (!logged_in_ && Clock::now() >= login_deadline_) {
      log("login timeout");
      end_outcome_ = Metrics::Ended::timeout;
      co_await reply(421, "Login timeout: closing control connection.");
      co_return std::nullopt;
    }
    std::string line;
    switch (reader_.next(&line)) {
      case ftp::LineReader::Status::line:
        co_return line;
      case ftp::LineReader::Status::too_long:
        co_await reply(500, "Command line too long.");
        continue;
      case ftp::LineReader::Status::need_more:
        break;
    }
    if (server_.shutting_down) co_return std::nullopt;  // idle now: run() says 421
    auto timeout = logged_in_ ? Duration(settings_->idle_timeout) : login_deadline_ - Clock::now();
    waiting_for_command_ = true;
    auto n = co_await with_timeout(timeout, control().read_some(buf));
    waiting_for_command_ = false;
    if (!n && n.error() == Error::timed_out) {
      // Not logged in: the login deadline has passed, and the check above closes.
      if (!logged_in_) continue;
      if (transfer_running()) continue;  // the control connection idles meanwhile
      log("idle timeout");
      end_outcome_ = Metrics::Ended::timeout;
      co_await reply(421, "Timeout: closing control connection.");
      co_return std::nullopt;
    }
    if (!n || *n == 0) co_return std::nullopt;
    reader_.feed(std::string_view(reinterpret_cast<const char*>(buf.data()), *n));
  }
}

Task<void> Session::reply(int code, std::string_view text) {
  co_await send_reply(ftp::format_reply(code, text));
}

Task<void> Session::reply_lines(int code, std::string_view first,
                                const std::vector<std::string>& body, std::string_view last) {
  co_await send_reply(ftp::format_multiline(code, first, body, last));
}

Task<void> Session::send_reply(std::string wire) {
  if (wire.size() >= 3 && (wire[0] == '4' || wire[0] == '5')) {
    server_.metrics.reply_code(wire[0] == '4' ? 400 : 500);
    if (json_logs()) {
      std::string_view text(wire);
      text = text.substr(0, text.find('\r'));
      SessionEvent e("error");
      e.code = (wire[0] - '0') * 100 + (wire[1] - '0') * 10 + (wire[2] - '0');
      if (text.size() > 4) e.message = text.substr(4);
      log_event(e, "");
    }
  }
  auto guard = co_await reply_mutex_.lock();
  if (!guard || control_cut_) co_return;
  // A loop timer, not a with_timeout scope: a shielded reply cannot be interrupted, but a write
  // on a socket that is shut down fails at once, on every backend and under TLS.
  Timer deadline(loop_, [this] { cut_control("reply not read in time"); });
  deadline.arm_after(reply_write_bound());
  writing_reply_ = true;
  (void)co_await control().write_all(std::as_bytes(std::span(wire.data(), wire.size())));
  writing_reply_ = false;
}

Duration Session::reply_write_bound() const {
  // Once the deadline has passed, the reply that says so still gets a moment to be sent.
  constexpr Duration kLastWord = std::chrono::seconds(1);
  if (grace_over_) return kLastWord;
  if (!logged_in_) return std::max<Duration>(login_deadline_ - Clock::now(), kLastWord);
  return settings_->idle_timeout;
}

void Session::cut_control(const char* why) {
  if (control_cut_) return;
  control_cut_ = true;
  log(why);
  // Both directions: the pending write fails, and the next read sees the end of the connection.
  (void)control_socket().shutdown_both();
}

void Session::end_grace() {
  grace_over_ = true;
  if (writing_reply_) cut_control("reply not read by the end of the shutdown grace period");
}

Task<void> Session::reply_error(std::error_code ec) {
  int code = 550;
  const char* text = "Requested action not taken.";
  switch (static_cast<std::errc>(ec.value())) {
    case std::errc::no_such_file_or_directory:
      text = "No such file or directory.";
      break;
    case std::errc::permission_denied:
    case std::errc::operation_not_permitted:
      text = "Permission denied.";
      break;
    case std::errc::file_exists:
      text = "File exists.";
      break;
    case std::errc::directory_not_empty:
      text = "Directory not empty.";
      break;
    case std::errc::is_a_directory:
      text = "Is a directory.";
      break;
    case std::errc::not_a_directory:
      text = "Not a directory.";
      break;
    case std::errc::filename_too_long:
    case std::errc::invalid_argument:
      code = 553;
      text = "File name not allowed.";
      break;
    case std::errc::no_space_on_device:
      code = 452;
      text = "Insufficient storage space.";
      break;
    default:
      code = 451;
      text = "Local error in processing.";
      break;
  }
  if (ec.category() != std::system_category()) code = 451;
  co_await reply(code, text);
}

const Session::CommandSpec* Session::find_command(std::string_view verb) {
  // verb, handler, needs login, may run during a transfer
  static const CommandSpec kCommands[] = {
      {"USER", &Session::cmd_user, false, false},      {"PASS", &Session::cmd_pass, false, false},
      {"QUIT", &Session::cmd_quit, false, true},       {"NOOP", &Session::cmd_noop, false, true},
      {"SYST", &Session::cmd_syst, false, false},      {"FEAT", &Session::cmd_feat, false, false},
      {"OPTS", &Session::cmd_opts, false, false},      {"HELP", &Session::cmd_help, false, false},
      {"STAT", &Session::cmd_stat, false, true},       {"ABOR", &Session::cmd_abor, true, true},
      {"TYPE", &Session::cmd_type, true, false},       {"MODE", &Session::cmd_mode, true, false},
      {"STRU", &Session::cmd_stru, true, false},       {"ALLO", &Session::cmd_allo, true, false},
      {"REST", &Session::cmd_rest, true, false},       {"PASV", &Session::cmd_pasv, true, false},
      {"EPSV", &Session::cmd_epsv, true, false},       {"PORT", &Session::cmd_port, true, false},
      {"EPRT", &Session::cmd_eprt, true, false},       {"PWD", &Session::cmd_pwd, true, false},
      {"XPWD", &Session::cmd_pwd, true, false},        {"CWD", &Session::cmd_cwd, true, false},
      {"XCWD", &Session::cmd_cwd, true, false},        {"CDUP", &Session::cmd_cdup, true, false},
      {"XCUP", &Session::cmd_cdup, true, false},       {"MKD", &Session::cmd_mkd, true, false},
      {"XMKD", &Session::cmd_mkd, true, false},        {"RMD", &Session::cmd_rmd, true, false},
      {"XRMD", &Session::cmd_rmd, true, false},        {"DELE", &Session::cmd_dele, true, false},
      {"RNFR", &Session::cmd_rnfr, true, false},       {"RNTO", &Session::cmd_rnto, true, false},
      {"SIZE", &Session::cmd_size, true, false},       {"MDTM", &Session::cmd_mdtm, true, false},
      {"MFMT", &Session::cmd_mfmt, true, false},       {"MLST", &Session::cmd_mlst, true, false},
      {"RETR", &Session::cmd_retr, true, false},       {"STOR", &Session::cmd_stor, true, false},
      {"STOU", &Session::cmd_stou, true, false},       {"APPE", &Session::cmd_appe, true, false},
      {"LIST", &Session::cmd_list, true, false},       {"NLST", &Session::cmd_nlst, true, false},
      {"MLSD", &Session::cmd_mlsd, true, false},       {"HASH", &Session::cmd_hash, true, false},
      {"XSHA256", &Session::cmd_xsha256, true, false}, {"XSHA1", &Session::cmd_xsha1, true, false},
      {"XMD5", &Session::cmd_xmd5, true, false},       {"XCRC", &Session::cmd_xcrc, true, false},
      {"AUTH", &Session::cmd_auth, false, false},      {"PBSZ", &Session::cmd_pbsz, false, false},
      {"PROT", &Session::cmd_prot, false, false},      {"CCC", &Session::cmd_ccc, false, false},
  };
  for (const auto& c : kCommands) {
    if (c.verb == verb) return &c;
  }
  return nullptr;
}

Task<void> Session::dispatch(const std::string& raw) {
  auto parsed = ftp::parse_command(ftp::strip_telnet(raw));
  if (auto* err = std::get_if<ftp::ParseError>(&parsed)) {
    if (*err != ftp::ParseError::empty) co_await reply(500, "Syntax error, command unrecognized.");
    co_return;
  }
  auto& cmd = std::get<ftp::Command>(parsed);
  server_.log->debug("[{}] <- {} {}", id_, cmd.verb, cmd.verb == "PASS" ? "****" : cmd.arg);
  const CommandSpec* spec = find_command(cmd.verb);
  if (spec == nullptr) {
    static constexpr std::string_view kObsolete[] = {"ACCT", "SMNT", "REIN", "SITE",
                                                     "REST", "XRCP", "XSEN", "MLFL"};
    bool known =
        std::find(std::begin(kObsolete), std::end(kObsolete), cmd.verb) != std::end(kObsolete);
    co_await reply(known ? 502 : 500, known ? "Command not implemented." : "Unknown command.");
    co_return;
  }
  if (cmd.verb == "USER" && tls_required_for(cmd.arg)) {
    co_await reply(530, "Non-anonymous sessions must use encryption (AUTH TLS).");
    co_return;
  }
  if (spec->needs_login && !logged_in_) {
    co_await reply(530, "Please login with USER and PASS.");
    co_return;
  }
  if (transfer_running() && !spec->during_transfer) {
    (void)co_await transfer_->finish();  // as if the client had waited for the 226
  }
  if (cmd.verb != "RNTO" && cmd.verb != "RNFR") rename_from_.reset();
  // REST applies to the transfer command that follows it; the commands clients send in between
  // (data-connection set-up, TYPE) keep it, anything else drops it.
  static constexpr std::string_view kKeepsRestart[] = {"REST", "RETR", "STOR", "APPE", "PASV",
                                                       "EPSV", "PORT", "EPRT", "TYPE", "NOOP"};
  if (std::find(std::begin(kKeepsRestart), std::end(kKeepsRestart), cmd.verb) ==
      std::end(kKeepsRestart)) {
    restart_offset_ = 0;
  }
  co_await (this->*spec->handler)(cmd.arg);
}

}  // namespace muxio::ftpd
