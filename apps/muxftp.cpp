// muxftp: the FTP client. Parallel transfers on one event loop, with a live progress board.
//
//   muxftp get URL... [-o DIR] [-j N] [--resume] [--segments K]
//   muxftp put FILE... URL/ [-j N] [--resume]
//   muxftp ls URL... | rm URL... | mkdir URL... | mv URL NEWNAME
//   muxftp mirror URL DIR | mirror --reverse DIR URL [--delete]
//   muxftp URL          an interactive shell (open, cd, get, put, ... `&` for the background;
//                       src/ftpc/shell.hpp), or a script of shell lines on stdin
//
// Progress and per-file summaries go to stderr (a board on a terminal, plain lines otherwise);
// listings and --json go to stdout. Exit status: 0 all well, 1 some file failed, 2 usage,
// interrupted: death by the SIGINT or SIGTERM itself after the clean-up, so a shell sees 130 or
// 143 and a shell loop stops (partial downloads stay and --resume continues them).
//
// This file is the command line and the wiring; the work is src/ftpc's (the transfers:
// transfer.hpp, mirror.hpp, segmented_get.hpp; what get, put, rm and mv share with the shell:
// remote_commands.hpp; the shell: shell.hpp; --json: json_summary.hpp).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>

#include "ftpc/control.hpp"
#include "ftpc/endpoint.hpp"
#include "ftpc/json_summary.hpp"
#include "ftpc/mirror.hpp"
#include "ftpc/progress.hpp"
#include "ftpc/progress_board.hpp"
#include "ftpc/remote_commands.hpp"
#include "ftpc/remote_listing.hpp"
#include "ftpc/segmented_get.hpp"
#include "ftpc/shell.hpp"
#include "ftpc/tls_options.hpp"
#include "ftpc/transfer.hpp"
#include "ftpc/url.hpp"
#include "muxio/muxio.hpp"
#include "terminal_input.hpp"

namespace {

using namespace muxio;
using namespace muxio::ftpc;
namespace fs = std::filesystem;

struct Cli {
  std::string command;  // empty: the shell
  std::string shell_url;
  std::vector<std::string> args;
  std::string out_dir = ".";
  std::size_t parallel = 4;
  bool resume = false;
  bool verify = false;
  std::size_t segments = 0;
  std::string progress = "auto";
  bool quiet = false;
  bool json = false;
  int retries = 3;
  double timeout = 60;
  bool active = false;
  bool tls = false;       // explicit FTPS (AUTH TLS) on ftp:// URLs
  bool insecure = false;  // do not verify the server's certificate
  std::string cacert;     // trust this certificate or CA bundle too
  std::string io = "best";
  bool reverse = false;
  bool remove_extra = false;  // mirror --delete
};

void err_line(const std::string& s) {
  write_fd(STDERR_FILENO, "muxftp: " + s + "\n");
}

// ---- the program -------------------------------------------------------------------------------

struct App {
  App(EventLoop& l, Cli c) : loop(l), cli(std::move(c)) {}
  EventLoop& loop;
  Cli cli;
  BoardMode mode = BoardMode::none;
  TransferRunner* runner = nullptr;
  TaskHandle main;
  bool interrupted = false;
  int interrupt_signal = SIGINT;  // which one: the process dies by it after the clean-up
  int status = 0;
  std::string json;  // the "files" array items of --json
  double started = now_seconds();
};

// What every session gets from the command line.
Options session_options(const Cli& cli) {
  Options o;
  o.active = cli.active;
  auto t = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(cli.timeout));
  o.reply_timeout = t;
  o.data_timeout = t;
  o.connect_timeout = std::min<Duration>(t, std::chrono::seconds(15));
  return o;
}

TlsSettings tls_settings(const Cli& cli) {
  TlsSettings t;
  t.require = cli.tls;
  t.verify = !cli.insecure;
  t.ca_file = cli.cacert;
  return t;
}

// Not on a terminal (scripts, tests), no prompt: an empty password.
std::string read_password(const std::string& prompt) {
  return muxio::apps::read_secret_from_terminal(prompt).value_or("");
}

// URL -> server endpoint, with credentials from the URL, else ~/.netrc, else a prompt (when a
// user was named without a password), else anonymous. nullopt (after saying why) when its TLS
// cannot be set up (an unreadable --cacert): the caller stops with status 2.
std::optional<Endpoint> endpoint_of(const App& app, const Url& url) {
  LoginCredentials login = credentials_for(url, read_netrc_file());
  if (login.ask_password) {
    login.password = read_password("Password for " + url.user + "@" + url.host + ": ");
  }
  std::string error;
  auto e = endpoint_for(url, login, session_options(app.cli), tls_settings(app.cli), &error);
  if (!e) err_line(url.display() + ": " + error);
  return e;
}

std::optional<Url> url_arg(const std::string& s) {
  std::string error;
  auto u = parse_url(s, &error);
  if (!u) err_line(s + ": " + error);
  return u;
}

void add_json(App& app, const std::vector<Job>& jobs) {
  for (const Job& j : jobs) {
    if (!app.json.empty()) app.json += ",";
    app.json += job_json(j);
  }
}

// Runs jobs on one server with the board up; sets the exit status.
Task<void> run_jobs(App& app, Endpoint endpoint, std::vector<Job>& jobs, bool preserve_mtime,
                    std::size_t parallel) {
  if (jobs.empty()) co_return;
  ProgressBoard board(app.mode, app.cli.quiet);
  RunOptions ro;
  ro.parallel = parallel;
  ro.resume = app.cli.resume;
  ro.verify = app.cli.verify;
  ro.retries = app.cli.retries;
  ro.preserve_mtime = preserve_mtime;
  co_await run_with_board(app.loop, std::move(endpoint), jobs, ro, board, &app.runner);
  for (const Job& j : jobs)
    if (j.state == JobState::failed || j.state == JobState::queued) app.status = 1;
  add_json(app, jobs);
}

// ---- get ---------------------------------------------------------------------------------------

Task<void> cmd_get_segments(App& app, Url url, Endpoint endpoint) {
  SegmentedGet get = co_await prepare_segmented_get(app.loop, endpoint, url.path, url.display(),
                                                    app.cli.out_dir, app.cli.segments);
  if (!get.error.empty()) {
    err_line(get.error);
    app.status = 1;
    co_return;
  }
  co_await run_jobs(app, endpoint, get.jobs, false, get.jobs.size());
  bool complete = std::all_of(get.jobs.begin(), get.jobs.end(),
                              [](const Job& j) { return j.state == JobState::done; });
  if (complete && check_reassembled(get)) {
    err_line(get.local + ": size after reassembly differs from the server's");
    app.status = 1;
  }
  if (complete && !app.cli.quiet && app.mode != BoardMode::none) {
    write_fd(STDERR_FILENO, "done    " + fit_name(base_name(url.path), 400) + "  " +
                                format_bytes(get.size) + " in " + std::to_string(get.jobs.size()) +
                                " segments\n");
  }
}

Task<void> cmd_get(App& app) {
  if (app.cli.args.empty()) {
    err_line("get: give at least one URL");
    app.status = 2;
    co_return;
  }
  std::error_code ec;
  fs::create_directories(app.cli.out_dir, ec);
  // Jobs grouped by server, in the order given.
  std::vector<std::pair<Endpoint, std::vector<Job>>> groups;
  std::map<std::string, std::size_t> group_of;
  for (const auto& arg : app.cli.args) {
    auto url = url_arg(arg);
    if (!url) {
      app.status = 2;
      continue;
    }
    auto endpoint = endpoint_of(app, *url);
    if (!endpoint) {
      app.status = 2;  // an unusable --cacert, said already
      continue;
    }
    if (app.cli.segments > 1) {
      co_await cmd_get_segments(app, *url, *endpoint);
      continue;
    }
    std::string key = endpoint->user + "@" + endpoint->host + ":" + std::to_string(endpoint->port);
    if (!group_of.count(key)) {
      group_of[key] = groups.size();
      groups.emplace_back(*endpoint, std::vector<Job>());
    }
    auto& jobs = groups[group_of[key]].second;
    // Named copies, not a structured binding: they go into a co_await below (g++ 12).
    const auto parts = split_dir(url->path);
    const std::string dir = parts.first;
    const std::string name = parts.second;
    if (name.empty()) {
      err_line(url->display() + ": a directory (use mirror)");
      app.status = 1;
      continue;
    }
    if (!has_glob(name)) {
      jobs.push_back(download_job(url->path, join_path(app.cli.out_dir, name)));
      continue;
    }
    auto conn = co_await open_session(app.loop, *endpoint);
    if (!conn) {
      err_line(url->display() + ": " + describe_error(conn.error(), nullptr));
      app.status = 1;
      continue;
    }
    auto files = co_await list_matching(**conn, dir, name);
    if (!files) {
      err_line(url->display() + ": listing: " + describe_error(files.error(), conn->get()));
      app.status = 1;
      continue;
    }
    co_await (*conn)->quit();
    for (const auto& e : *files) {
      Job j = download_job(join_path(dir, e.name), join_path(app.cli.out_dir, e.name));
      j.size = e.size;
      jobs.push_back(j);
    }
    if (files->empty()) {
      err_line(url->display() + ": no file matches");
      app.status = 1;
    }
  }
  for (auto& [endpoint, jobs] : groups) {
    if (app.interrupted) break;
    co_await run_jobs(app, endpoint, jobs, false, app.cli.parallel);
  }
}

// ---- put ---------------------------------------------------------------------------------------

Task<void> cmd_put(App& app) {
  if (app.cli.args.size() < 2) {
    err_line("put: give FILE... URL/");
    app.status = 2;
    co_return;
  }
  auto url = url_arg(app.cli.args.back());
  if (!url) {
    app.status = 2;
    co_return;
  }
  auto endpoint = endpoint_of(app, *url);
  if (!endpoint) {
    app.status = 2;  // an unusable --cacert, said already
    co_return;
  }
  const std::size_t nfiles = app.cli.args.size() - 1;
  const bool into_dir = url->path.empty() || url->path.back() == '/' || nfiles > 1;
  std::vector<Job> jobs;
  for (std::size_t i = 0; i < nfiles; ++i) {
    const std::string& file = app.cli.args[i];
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      err_line(file + ": not a regular file");
      app.status = 1;
      continue;
    }
    std::string name = fs::path(file).filename().string();
    jobs.push_back(upload_job(file, into_dir ? join_path(url->path, name) : url->path));
  }
  co_await run_jobs(app, *endpoint, jobs, false, app.cli.parallel);
}

// ---- ls, rm, mkdir, mv -------------------------------------------------------------------------

// One operation on one URL; replies its own errors. False when it failed.
Task<bool> simple_operation(App& app, const std::string& arg) {
  const std::string& c = app.cli.command;
  auto url = url_arg(arg);
  if (!url) {
    app.status = 2;
    co_return false;
  }
  auto endpoint = endpoint_of(app, *url);
  if (!endpoint) {
    app.status = 2;  // an unusable --cacert, said already
    co_return false;
  }
  auto conn = co_await open_session(app.loop, *endpoint);
  if (!conn) {
    err_line(url->display() + ": " + describe_error(conn.error(), nullptr));
    co_return false;
  }
  ControlConnection& cc = **conn;
  std::error_code ec;
  if (c == "ls") {
    auto entries = co_await cc.list(url->path);
    if (!entries) {
      ec = entries.error();
    } else {
      write_fd(STDOUT_FILENO, format_listing(std::move(*entries)));
    }
  } else if (c == "rm") {
    ec = co_await remove_file_or_directory(cc, url->path);
  } else if (c == "mkdir") {
    ec = co_await cc.mkdir(url->path);
  } else if (c == "mv") {
    ec = co_await cc.rename(url->path, rename_target(url->path, app.cli.args[1]));
  }
  if (ec) err_line(url->display() + ": " + describe_error(ec, &cc));
  co_await cc.quit();
  co_return !ec;
}

// ls, rm and mkdir take several URLs (each done in turn, the rest going on after a failure);
// mv takes one URL and the new name.
Task<void> cmd_simple(App& app) {
  const std::string& c = app.cli.command;
  if (c == "mv" && app.cli.args.size() != 2) {
    err_line("mv: expected URL NEWNAME");
    app.status = 2;
    co_return;
  }
  const std::size_t urls = c == "mv" ? 1 : app.cli.args.size();
  bool all_done = true;
  for (std::size_t i = 0; i < urls && !app.interrupted; ++i) {
    const bool done = co_await simple_operation(app, app.cli.args[i]);
    all_done = all_done && done;
  }
  if (!all_done && app.status == 0) app.status = 1;
}

// ---- mirror ------------------------------------------------------------------------------------

Task<void> cmd_mirror(App& app) {
  if (app.cli.args.size() != 2) {
    err_line("mirror: expected URL DIR (or --reverse DIR URL)");
    app.status = 2;
    co_return;
  }
  MirrorRequest request;
  request.upload = app.cli.reverse;
  request.delete_extra = app.cli.remove_extra;
  request.local_root = request.upload ? app.cli.args[0] : app.cli.args[1];
  auto url = url_arg(request.upload ? app.cli.args[1] : app.cli.args[0]);
  if (!url) {
    app.status = 2;
    co_return;
  }
  request.base = mirror_base(url->path);
  auto endpoint = endpoint_of(app, *url);
  if (!endpoint) {
    app.status = 2;  // an unusable --cacert, said already
    co_return;
  }
  auto conn = co_await open_session(app.loop, *endpoint);
  if (!conn) {
    err_line(url->display() + ": " + describe_error(conn.error(), nullptr));
    app.status = 1;
    co_return;
  }
  ControlConnection& cc = **conn;
  MirrorNotes notes;
  notes.error = [](const std::string& text) { err_line(text); };
  notes.deleted = [&app](const std::string& path) {
    if (!app.cli.quiet) write_fd(STDERR_FILENO, "deleted " + path + "\n");
  };
  auto jobs = co_await prepare_mirror(cc, request, notes);
  if (!jobs) {
    err_line(url->display() + ": listing: " + describe_error(jobs.error(), &cc));
    app.status = 1;
    co_await cc.quit();
    co_return;
  }
  co_await cc.quit();
  co_await run_jobs(app, *endpoint, *jobs, true, app.cli.parallel);
}

Task<void> main_task(App& app) {
  const std::string& c = app.cli.command;
  if (c == "get") {
    co_await cmd_get(app);
  } else if (c == "put") {
    co_await cmd_put(app);
  } else if (c == "mirror") {
    co_await cmd_mirror(app);
  } else {
    co_await cmd_simple(app);
  }
}

ShellSettings shell_settings(const App& app) {
  ShellSettings s;
  s.options = session_options(app.cli);
  s.tls = tls_settings(app.cli);
  s.parallel = app.cli.parallel;
  s.retries = app.cli.retries;
  s.resume = app.cli.resume;
  s.board = app.mode;
  s.quiet = app.cli.quiet;
  if (const char* home = std::getenv("HOME"))
    s.history_file = std::string(home) + "/.muxftp_history";
  return s;
}

void on_interrupt(App& app) {
  if (app.interrupted) return;
  app.interrupted = true;
  if (app.runner != nullptr) {
    app.runner->stop();
  } else {
    app.main.cancel();
  }
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli;
  CLI::App app{
      "muxftp: an FTP client with parallel transfers and live progress, on one event loop"};
  app.require_subcommand(0, 1);
  app.fallthrough();
  app.add_option("URL", cli.shell_url,
                 "no subcommand: a shell on this server (help lists its commands)");
  app.add_option("-j,--parallel", cli.parallel, "transfers at once (4)")->check(CLI::Range(1, 64));
  app.add_flag("--resume", cli.resume, "continue partial files (REST; SIZE + REST STOR/APPE)");
  app.add_flag("--verify", cli.verify,
               "after each file, compare with the server's HASH (SHA-256...), else its SIZE");
  app.add_option("--progress", cli.progress, "auto|bars|lines|none")
      ->check(CLI::IsMember({"auto", "bars", "lines", "none"}));
  app.add_flag("-q,--quiet", cli.quiet, "only errors");
  app.add_flag("--json", cli.json, "a JSON summary on stdout");
  app.add_option("--retries", cli.retries, "attempts after a transient error (3)")
      ->check(CLI::Range(0, 100));
  app.add_option("--timeout", cli.timeout, "seconds for replies and stalled data (60)")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_flag("--active", cli.active, "active mode (EPRT/PORT) instead of passive");
  app.add_flag("--tls", cli.tls,
               "FTPS: AUTH TLS on ftp:// URLs, never clear text (ftps://: implicit TLS; "
               "ftpes://: explicit)");
  app.add_flag("-k,--insecure", cli.insecure, "FTPS without checking the server's certificate");
  app.add_option("--cacert", cli.cacert, "FTPS: trust this PEM certificate or CA bundle too");
  app.add_option("--io", cli.io, "IO backend: select|poll|epoll|epoll-et");

  auto* get = app.add_subcommand("get", "download files (globs in the last segment)");
  get->add_option("URL", cli.args, "ftp://[user[:pass]@]host[:port]/path")->required();
  get->add_option("-o,--output", cli.out_dir, "directory to write to (.)");
  get->add_option("--segments", cli.segments, "one file over K connections (REST ranges)")
      ->check(CLI::Range(1, 32));
  auto* put = app.add_subcommand("put", "upload files: put FILE... URL/");
  put->add_option("ARGS", cli.args, "files, then the destination URL")->required();
  auto* ls = app.add_subcommand("ls", "list a directory (MLSD, else LIST)");
  ls->add_option("URL", cli.args, "one or more directories")->required();
  auto* rm = app.add_subcommand("rm", "delete a file (or an empty directory)");
  rm->add_option("URL", cli.args, "one or more files or empty directories")->required();
  auto* mk = app.add_subcommand("mkdir", "make a directory");
  mk->add_option("URL", cli.args, "one or more directories")->required();
  auto* mv = app.add_subcommand("mv", "rename: mv URL NEWNAME");
  mv->add_option("ARGS", cli.args)->required();
  auto* mirror = app.add_subcommand("mirror", "mirror URL DIR, or --reverse DIR URL");
  mirror->add_option("ARGS", cli.args)->required();
  mirror->add_flag("--reverse", cli.reverse, "upload a local tree");
  mirror->add_flag("--delete", cli.remove_extra, "delete files the source does not have");
  CLI11_PARSE(app, argc, argv);
  for (auto* sub : app.get_subcommands())
    cli.command = sub->get_name();
  if (cli.command.empty() && cli.shell_url.empty()) {
    std::cerr << app.help();
    return 2;
  }

  std::signal(SIGPIPE, SIG_IGN);
  std::optional<EventLoop> loop_storage;
  try {
    loop_storage.emplace(cli.io);
  } catch (const std::exception& e) {
    err_line(std::string("--io ") + cli.io + ": " + e.what());
    return 2;
  }
  EventLoop& loop = *loop_storage;
  App state(loop, cli);
  if (cli.quiet || cli.progress == "none") {
    state.mode = BoardMode::none;
  } else if (cli.progress == "bars" ||
             (cli.progress == "auto" && ::isatty(STDERR_FILENO) && std::getenv("TERM") != nullptr &&
              std::string_view(std::getenv("TERM")) != "dumb")) {
    state.mode = BoardMode::bars;
  } else {
    state.mode = BoardMode::lines;
  }
  if (cli.command.empty()) return run_shell(loop, shell_settings(state), cli.shell_url);
  App* appp = &state;
  (void)loop.add_signal_handler(SIGINT, [appp] {
    appp->interrupt_signal = SIGINT;
    on_interrupt(*appp);
  });
  (void)loop.add_signal_handler(SIGTERM, [appp] {
    appp->interrupt_signal = SIGTERM;
    on_interrupt(*appp);
  });
  state.main = loop.spawn(main_task(state));
  while (!state.main.done())
    loop.run_once();
  loop.remove_signal_handler(SIGINT);
  loop.remove_signal_handler(SIGTERM);
  if (cli.json) {
    write_fd(STDOUT_FILENO,
             json_summary(state.json, now_seconds() - state.started,
                          state.interrupted ? 130 : state.status, state.interrupted));
  }
  if (state.interrupted) {
    err_line("interrupted; partial files are kept (--resume continues them)");
    // Die by the signal, as a shell expects of an interrupted program: `for f in ...; do muxftp
    // get ...; done` then stops at Ctrl-C instead of going on with the next file.
    const int sig = state.interrupt_signal;
    std::signal(sig, SIG_DFL);
    ::raise(sig);
    return 128 + sig;
  }
  return state.status;
}
