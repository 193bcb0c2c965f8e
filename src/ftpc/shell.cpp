#include "ftpc/shell.hpp"

#include <glob.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include "ftpc/background_jobs.hpp"
#include "ftpc/line_input.hpp"
#include "ftpc/remote_commands.hpp"
#include "ftpc/remote_listing.hpp"
#include "ftpc/shell_command.hpp"
#include "ftpc/transfer.hpp"
#include "ftpc/url.hpp"

namespace muxio::ftpc {

namespace {

namespace fs = std::filesystem;

// A session idle for longer is asked for a NOOP before use: servers drop idle sessions, and a
// fresh one (in the same directory) is better than a failed command.
constexpr auto kIdleCheck = std::chrono::seconds(30);

// "~" and "~/dir" as under $HOME, like a shell would.
std::string expand_home(const std::string& path) {
  const char* home = std::getenv("HOME");
  if (home == nullptr || path.empty() || path[0] != '~') return path;
  if (path.size() == 1) return home;
  if (path[1] == '/') return std::string(home) + path.substr(1);
  return path;
}

// An ftp:// URL, or HOST[:PORT] for the same without a path.
std::optional<Url> url_of(const std::string& target, std::string* error) {
  if (target.find("://") != std::string::npos) return parse_url(target, error);
  return parse_url("ftp://" + target, error);
}

// Local files a pattern names (glob(3); a name without glob characters names itself).
std::vector<std::string> local_matches(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(expand_home(pattern).c_str(), 0, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i)
      out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  return out;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

int stdout_columns() {
  winsize ws{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 100;
}

bool all_transferred(const std::vector<Job>& jobs) {
  return std::all_of(jobs.begin(), jobs.end(), [](const Job& j) {
    return j.state == JobState::done || j.state == JobState::skipped;
  });
}

}  // namespace

// ---- the loop of lines -------------------------------------------------------------------------

Task<void> Shell::main(std::optional<std::string> first_url) {
  if (first_url) {
    ShellCommand open_cmd;
    open_cmd.info = find_shell_command("open");
    open_cmd.args.push_back(*first_url);
    co_await run_foreground(open_cmd);
  }
  while (!quitting_) {
    flush_held();
    std::string where = prompt();
    auto line = co_await input_.read_line(where);
    if (!line) break;
    std::string error;
    auto cmd = parse_shell_line(*line, &error);
    if (!cmd) {
      complain(error);
      failed_ = true;
      continue;
    }
    if (cmd->info != nullptr) co_await run_foreground(*cmd);
  }
  quitting_ = true;
  if (std::size_t n = background_.running(); n > 0) {
    chat("waiting for " + std::to_string(n) +
         " background transfer(s) to finish; Ctrl-C stops them");
  }
  co_await background_.wait_all();
  flush_held();
  if (conn_) co_await conn_->quit();
}

int Shell::run(std::optional<std::string> first_url) {
  main_ = loop_.spawn(main(std::move(first_url)));
  while (!main_.done())
    loop_.run_once();
  return exit_status();
}

Task<void> run_command(Shell& shell, ShellCommand cmd) {
  bool ok = co_await shell.dispatch(cmd);
  if (!ok) shell.failed_ = true;
}

// Each command is a task of its own, so that Ctrl-C can cancel it and nothing else.
Task<void> Shell::run_foreground(ShellCommand cmd) {
  fg_cancelled_ = false;
  fg_ = loop_.spawn(run_command(*this, std::move(cmd)));
  (void)co_await fg_.finish();
  fg_ = TaskHandle();
  if (fg_cancelled_ && conn_) {
    // Cancelled in the middle of an exchange: the session may be out of step with the server.
    conn_->close();
    conn_.reset();
  }
}

Task<bool> Shell::dispatch(const ShellCommand& cmd) {
  const auto& a = cmd.args;
  switch (cmd.info->verb) {
    case ShellVerb::open:
      co_return co_await open(a[0]);
    case ShellVerb::user:
      co_return co_await user(a);
    case ShellVerb::close:
      co_return co_await close();
    case ShellVerb::ls:
      co_return co_await ls(a);
    case ShellVerb::cd:
      co_return co_await cd(a[0]);
    case ShellVerb::pwd:
      co_return co_await pwd();
    case ShellVerb::lcd:
      co_return lcd(a);
    case ShellVerb::get:
      co_return co_await get(cmd);
    case ShellVerb::put:
      co_return co_await put(cmd);
    case ShellVerb::mget:
      co_return co_await mget(cmd);
    case ShellVerb::mput:
      co_return co_await mput(cmd);
    case ShellVerb::mkdir:
    case ShellVerb::rm:
    case ShellVerb::rename:
      co_return co_await change(cmd);
    case ShellVerb::binary:
    case ShellVerb::ascii:
      ascii_ = cmd.info->verb == ShellVerb::ascii;
      chat(std::string("transfer type: ") + (ascii_ ? "ascii (TYPE A)" : "binary (TYPE I)"));
      co_return true;
    case ShellVerb::passive:
      co_return co_await set_active(false);
    case ShellVerb::active:
      co_return co_await set_active(true);
    case ShellVerb::status:
      co_return status();
    case ShellVerb::jobs:
      co_return jobs();
    case ShellVerb::wait:
      co_return co_await wait(a);
    case ShellVerb::kill:
      co_return kill(a[0]);
    case ShellVerb::help:
      co_return help(a);
    case ShellVerb::quit:
      quitting_ = true;
      co_return true;
  }
  co_return false;
}

void Shell::interrupt() {
  if (!input_.interactive()) {
    terminate();  // a script: Ctrl-C ends it
  } else if (fg_ && !fg_.done()) {
    // A transfer is stopped through its runner (cancelling would leave its workers running).
    if (fg_runner_ != nullptr) {
      fg_runner_->stop();  // its board is on the screen and takes itself down
    } else {
      fg_cancelled_ = true;
      fg_.cancel();
      write_fd(STDERR_FILENO, "\n");  // after the terminal's "^C"
    }
  } else if (quitting_) {
    write_fd(STDERR_FILENO, "\n");
    background_.stop_all();
  } else {
    input_.interrupt();
  }
}

void Shell::terminate() {
  interrupted_ = true;
  quitting_ = true;
  if (fg_runner_ != nullptr) fg_runner_->stop();
  if (fg_) {
    fg_cancelled_ = true;
    fg_.cancel();
  }
  background_.stop_all();
  main_.cancel();  // ends a wait for input
}

int Shell::exit_status() const {
  if (interrupted_) return 130;
  if (input_.interactive()) return 0;
  return failed_ || background_.failed_any() ? 1 : 0;
}

// ---- output ------------------------------------------------------------------------------------

std::string Shell::prompt() const {
  if (!endpoint_) return "muxftp> ";
  std::string where = cwd_.empty() ? std::string("~") : fit_name(cwd_, 40);
  return "muxftp " + fit_name(endpoint_->host, 40) + ":" + where + "> ";
}

// A background transfer ended: above the prompt when one is up, after the foreground command
// otherwise (its board owns the screen meanwhile).
void Shell::notify(const std::string& line) {
  std::string text = fit_name(line, 4096) + "\n";
  if (input_.interactive() && fg_ && !fg_.done()) {
    held_.push_back(text);
  } else {
    input_.print_above(text);
  }
}

void Shell::flush_held() {
  for (const auto& text : held_)
    write_fd(STDERR_FILENO, text);
  held_.clear();
}

// ---- the server --------------------------------------------------------------------------------

bool Shell::connected_somewhere() {
  if (endpoint_) return true;
  complain("not connected (open URL first)");
  return false;
}

// The control session, connected and logged in, in the shell's remote directory; nullptr (after
// saying why) when that cannot be.
Task<ControlConnection*> Shell::session() {
  if (!connected_somewhere()) co_return nullptr;
  if (conn_ && !conn_->usable()) {
    conn_->close();
    conn_.reset();
  }
  if (conn_ && loop_.now() - last_used_ > kIdleCheck) {
    auto noop = co_await conn_->command("NOOP", "");
    if (!noop || noop->kind() != 2) {
      conn_->close();
      conn_.reset();
    }
  }
  if (!conn_) {
    auto c = co_await open_session(loop_, *endpoint_);
    if (!c) {
      complain(endpoint_->host + ":" + std::to_string(endpoint_->port) + ": " +
               describe_error(c.error(), nullptr));
      co_return nullptr;
    }
    conn_ = std::move(*c);
    if (cwd_.empty()) {
      auto dir = co_await conn_->pwd();
      if (dir) cwd_ = *dir;
    } else if (auto ec = co_await conn_->cwd(cwd_)) {
      complain("cd " + cwd_ + ": " + describe_error(ec, conn_.get()));
    }
  }
  last_used_ = loop_.now();
  co_return conn_.get();
}

Task<void> Shell::close_session() {
  if (conn_) co_await conn_->quit();
  conn_.reset();
}

// Absolute when the remote directory is known: a transfer's sessions start at the login
// directory, and a later cd must not move a running transfer.
std::string Shell::remote_path(const std::string& path) const {
  if (path.starts_with('/') || cwd_.empty()) return path;
  return join_path(cwd_, path);
}

std::string Shell::local_path(const std::string& given, const std::string& remote_name) const {
  fs::path p = given.empty() ? fs::path(remote_name) : fs::path(expand_home(given));
  std::error_code ec;
  if (!given.empty() && fs::is_directory(p, ec)) p /= remote_name;
  fs::path absolute = fs::absolute(p, ec);
  return ec ? p.string() : absolute.string();
}

Job Shell::download(const std::string& remote, const std::string& local) const {
  return download_job(remote, local_path(local, base_name(remote)));
}

Task<bool> Shell::transfer(std::string title, std::vector<Job> jobs, bool background) {
  RunOptions options;
  options.parallel = settings_.parallel;
  options.resume = settings_.resume && !ascii_;
  options.retries = settings_.retries;
  options.ascii = ascii_;
  if (background) {
    int id = background_.start(title, *endpoint_, std::move(jobs), options);
    write_fd(STDERR_FILENO, "[" + std::to_string(id) + "] " + title + "\n");
    co_return true;
  }
  ProgressBoard board(settings_.board, settings_.quiet);
  co_await run_with_board(loop_, *endpoint_, jobs, options, board, &fg_runner_);
  co_return all_transferred(jobs);
}

// ---- the commands ------------------------------------------------------------------------------

Task<bool> Shell::open(std::string target) {
  std::string error;
  auto url = url_of(target, &error);
  if (!url) {
    complain(target + ": " + error);
    co_return false;
  }
  LoginCredentials login = credentials_for(*url, read_netrc_file());
  if (login.ask_password) {
    std::string question = "Password for " + login.user + "@" + url->host + ": ";
    auto secret = co_await input_.read_secret(question);
    if (!secret && input_.interactive()) co_return false;  // Ctrl-C or Ctrl-D instead
    login.password = secret.value_or("");                  // a script: no password to read
  }
  co_await close_session();
  // What muxftp's subcommands would use for this URL.
  auto e = endpoint_for(*url, login, settings_.options, settings_.tls, &error);
  if (!e) {
    complain(target + ": " + error);
    co_return false;
  }
  endpoint_ = *e;
  cwd_.clear();
  ControlConnection* c = co_await session();
  if (c == nullptr) co_return false;
  bool ok = true;
  if (!url->path.empty()) ok = co_await cd(url->path);
  chat("connected to " + url->host + ":" + std::to_string(url->port) + " as " +
       (login.user.empty() ? std::string("anonymous") : login.user) + "; remote directory " +
       fit_name(cwd_, 200));
  co_return ok;
}

Task<bool> Shell::user(const std::vector<std::string>& args) {
  if (!connected_somewhere()) co_return false;
  std::string password;
  if (args.size() > 1) {
    password = args[1];
  } else {
    std::string question = "Password for " + args[0] + "@" + endpoint_->host + ": ";
    auto secret = co_await input_.read_secret(question);
    if (!secret && input_.interactive()) co_return false;  // Ctrl-C or Ctrl-D instead
    password = secret.value_or("");
  }
  co_await close_session();
  endpoint_->user = args[0];
  endpoint_->password = password;
  cwd_.clear();  // another user may have another home
  ControlConnection* c = co_await session();
  if (c == nullptr) co_return false;
  chat("logged in as " + args[0] + "; remote directory " + fit_name(cwd_, 200));
  co_return true;
}

Task<bool> Shell::close() {
  if (!connected_somewhere()) co_return false;
  co_await close_session();
  endpoint_.reset();
  cwd_.clear();
  co_return true;
}

Task<bool> Shell::ls(const std::vector<std::string>& args) {
  ControlConnection* c = co_await session();
  if (c == nullptr) co_return false;
  std::string path = args.empty() ? std::string() : args[0];
  auto entries = co_await c->list(path);
  if (!entries) {
    complain((path.empty() ? std::string(".") : path) + ": " + describe_error(entries.error(), c));
    co_return false;
  }
  say(format_listing(std::move(*entries)));
  co_return true;
}

Task<bool> Shell::cd(std::string path) {
  ControlConnection* c = co_await session();
  if (c == nullptr) co_return false;
  if (auto ec = co_await c->cwd(path)) {
    complain("cd " + path + ": " + describe_error(ec, c));
    co_return false;
  }
  auto dir = co_await c->pwd();
  cwd_ = dir ? *dir : remote_path(path);
  co_return true;
}

Task<bool> Shell::pwd() {
  ControlConnection* c = co_await session();
  if (c == nullptr) co_return false;
  auto dir = co_await c->pwd();
  if (!dir) {
    complain("pwd: " + describe_error(dir.error(), c));
    co_return false;
  }
  cwd_ = *dir;
  say(fit_name(cwd_, 4096) + "\n");
  co_return true;
}

bool Shell::lcd(const std::vector<std::string>& args) {
  const char* home = std::getenv("HOME");
  std::string dir = args.empty() ? std::string(home != nullptr ? home : "/") : expand_home(args[0]);
  std::error_code ec;
  fs::current_path(dir, ec);
  if (ec) {
    complain("lcd " + dir + ": " + ec.message());
    return false;
  }
  chat("local directory now " + fs::current_path(ec).string());
  return true;
}

Task<bool> Shell::get(const ShellCommand& cmd) {
  if (!connected_somewhere()) co_return false;
  std::string remote = remote_path(cmd.args[0]);
  if (base_name(remote).empty()) {
    complain(cmd.args[0] + ": a directory (mget DIR/* gets its files)");
    co_return false;
  }
  std::string local = cmd.args.size() > 1 ? cmd.args[1] : std::string();
  std::vector<Job> jobs;
  jobs.push_back(download(remote, local));
  co_return co_await transfer("get " + joined(cmd.args), std::move(jobs), cmd.background);
}

Task<bool> Shell::put(const ShellCommand& cmd) {
  if (!connected_somewhere()) co_return false;
  std::string local = expand_home(cmd.args[0]);
  std::error_code ec;
  if (!fs::is_regular_file(local, ec)) {
    complain(cmd.args[0] + ": not a regular file");
    co_return false;
  }
  std::string name = fs::path(local).filename().string();
  std::string remote = cmd.args.size() > 1 ? remote_path(cmd.args[1]) : remote_path(name);
  if (remote.empty() || remote.back() == '/') remote += name;
  std::vector<Job> jobs;
  jobs.push_back(upload_job(fs::absolute(local, ec).string(), remote));
  co_return co_await transfer("put " + joined(cmd.args), std::move(jobs), cmd.background);
}

Task<bool> Shell::mget(const ShellCommand& cmd) {
  if (!connected_somewhere()) co_return false;
  std::vector<Job> jobs;
  bool ok = true;
  for (const auto& pattern : cmd.args) {
    std::string remote = remote_path(pattern);
    std::pair<std::string, std::string> parts = split_dir(remote);
    if (!has_glob(parts.second)) {
      jobs.push_back(download(remote, std::string()));
      continue;
    }
    ControlConnection* c = co_await session();
    if (c == nullptr) co_return false;
    auto files = co_await list_matching(*c, parts.first, parts.second);
    if (!files) {
      complain(pattern + ": " + describe_error(files.error(), c));
      ok = false;
      continue;
    }
    if (files->empty()) {
      complain(pattern + ": no file matches");
      ok = false;
    }
    for (const auto& f : *files) {
      Job j = download(join_path(parts.first, f.name), std::string());
      j.size = f.size;
      jobs.push_back(j);
    }
  }
  if (jobs.empty()) co_return false;
  bool sent = co_await transfer("mget " + joined(cmd.args), std::move(jobs), cmd.background);
  co_return ok&& sent;
}

Task<bool> Shell::mput(const ShellCommand& cmd) {
  if (!connected_somewhere()) co_return false;
  std::vector<Job> jobs;
  bool ok = true;
  for (const auto& pattern : cmd.args) {
    std::size_t before = jobs.size();
    for (const auto& path : local_matches(pattern)) {
      std::error_code ec;
      if (!fs::is_regular_file(path, ec)) continue;
      std::string name = fs::path(path).filename().string();
      jobs.push_back(upload_job(fs::absolute(path, ec).string(), remote_path(name)));
    }
    if (jobs.size() == before) {
      complain(pattern + ": no local file matches");
      ok = false;
    }
  }
  if (jobs.empty()) co_return false;
  bool sent = co_await transfer("mput " + joined(cmd.args), std::move(jobs), cmd.background);
  co_return ok&& sent;
}

Task<bool> Shell::change(const ShellCommand& cmd) {
  ControlConnection* c = co_await session();
  if (c == nullptr) co_return false;
  const std::string& path = cmd.args[0];
  std::error_code ec;
  if (cmd.info->verb == ShellVerb::mkdir) {
    ec = co_await c->mkdir(path);
  } else if (cmd.info->verb == ShellVerb::rename) {
    ec = co_await c->rename(path, cmd.args[1]);
  } else {
    ec = co_await remove_file_or_directory(*c, path);
  }
  if (ec) {
    complain(std::string(cmd.info->name) + " " + path + ": " + describe_error(ec, c));
    co_return false;
  }
  co_return true;
}

// Every later session uses the mode; the control session starts again with it.
Task<bool> Shell::set_active(bool active) {
  settings_.options.active = active;
  if (endpoint_) endpoint_->options.active = active;
  co_await close_session();
  chat(active ? "active mode: this side opens the data connections (EPRT/PORT)"
              : "passive mode: the server opens the data ports (EPSV/PASV)");
  co_return true;
}

bool Shell::status() {
  std::string s;
  if (endpoint_) {
    s += "server:      " + endpoint_->host + ":" + std::to_string(endpoint_->port) + "\n";
    s += "user:        " + (endpoint_->user.empty() ? std::string("anonymous") : endpoint_->user) +
         "\n";
    s += std::string("session:     ") + (conn_ ? "open" : "closed (opens on the next command)") +
         "\n";
    s += "remote dir:  " + fit_name(cwd_, 4096) + "\n";
  } else {
    s += "server:      not connected\n";
  }
  std::error_code ec;
  s += "local dir:   " + fs::current_path(ec).string() + "\n";
  s += std::string("type:        ") + (ascii_ ? "ascii" : "binary") + "\n";
  s += std::string("mode:        ") + (settings_.options.active ? "active" : "passive") + "\n";
  s += "parallel:    " + std::to_string(settings_.parallel) + " transfers (mget/mput)\n";
  s += "background:  " + std::to_string(background_.running()) + " running\n";
  say(s);
  return true;
}

bool Shell::jobs() {
  std::string list = background_.listing(stdout_columns());
  say(list.empty() ? std::string("no background transfers\n") : list);
  return true;
}

Task<bool> Shell::wait(const std::vector<std::string>& args) {
  std::optional<int> id;
  if (!args.empty()) {
    id = std::atoi(args[0].c_str());
    if (!background_.exists(*id)) {
      complain("wait: no background transfer " + args[0]);
      co_return false;
    }
  }
  co_await background_.wait(id);
  co_return true;
}

bool Shell::kill(const std::string& id) {
  if (!background_.stop(std::atoi(id.c_str()))) {
    complain("kill: no background transfer " + id);
    return false;
  }
  return true;
}

bool Shell::help(const std::vector<std::string>& args) {
  if (args.empty()) {
    say("commands (a trailing & runs a transfer in the background):\n" + shell_help());
    return true;
  }
  const ShellCommandInfo* info = find_shell_command(args[0]);
  if (info == nullptr) {
    complain("help: " + args[0] + ": no such command");
    return false;
  }
  say(shell_help(*info));
  return true;
}

int run_shell(EventLoop& loop, ShellSettings settings, std::optional<std::string> url) {
  std::unique_ptr<LineInput> input = ::isatty(STDIN_FILENO)
                                         ? make_terminal_input(loop, settings.history_file)
                                         : make_script_input(loop);
  Shell shell(loop, std::move(settings), *input);
  Shell* s = &shell;
  (void)loop.add_signal_handler(SIGINT, [s] { s->interrupt(); });
  (void)loop.add_signal_handler(SIGTERM, [s] { s->terminate(); });
  int status = shell.run(std::move(url));
  loop.remove_signal_handler(SIGINT);
  loop.remove_signal_handler(SIGTERM);
  return status;
}

}  // namespace muxio::ftpc
