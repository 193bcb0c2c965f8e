// muxftp's interactive shell (`muxftp URL` with no subcommand): open, user, ls, cd, get, put,
// mget, mput ... (shell_command.hpp has the table), on one event loop with everything else.
//
// One control session serves the commands that talk to the server (ls, cd, mkdir, ...); every
// transfer opens sessions of its own through TransferRunner, so a transfer started with a trailing
// '&' runs in the background (background_jobs.hpp) while the next lines are read and answered.
// Transfers use absolute remote paths (the directory the control session is in, from PWD) and
// absolute local ones, so a later cd or lcd does not move a running transfer.
//
// On a terminal: a prompt, line editing and history (libedit, ~/.muxftp_history), a progress
// board for foreground transfers, a background transfer's summary printed above the prompt when
// it ends. Ctrl-C stops the foreground command or clears the line being typed; Ctrl-D or quit
// leaves, after the background transfers finish (Ctrl-C then stops them).
//
// Not on a terminal (a script on stdin): lines are read one by one with no prompt and no editing;
// every line runs even after a failure (as `ftp -n` and lftp do by default), and the exit status
// tells whether all went well: 0 when every command and background transfer succeeded, 1 when
// one failed, 130 when interrupted. On a terminal the exit status is 0 unless interrupted.
// Listings and answers (ls, pwd, status, jobs, help) go to stdout; errors, progress, summaries
// and, on a terminal only, chatter (connected ..., local directory now ...) to stderr.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ftpc/background_jobs.hpp"
#include "ftpc/control.hpp"
#include "ftpc/endpoint.hpp"
#include "ftpc/line_input.hpp"
#include "ftpc/progress_board.hpp"
#include "ftpc/shell_command.hpp"
#include "ftpc/tls_options.hpp"
#include "ftpc/transfer.hpp"

namespace muxio::ftpc {

struct ShellSettings {
  Options options;           // timeouts and active mode of every session
  TlsSettings tls;           // FTPS: --tls, --insecure, --cacert (ftps:// URLs always)
  std::size_t parallel = 4;  // mget/mput transfers at once (-j)
  int retries = 3;
  bool resume = false;
  BoardMode board = BoardMode::lines;  // foreground transfers
  bool quiet = false;
  std::string history_file;  // empty: no history file
};

// The shell itself: reads lines from `input` and runs them, on `loop`. run_shell() below is what
// muxftp calls; tests drive a Shell with a LineInput of their own (a list of lines).
class Shell {
 public:
  Shell(EventLoop& loop, ShellSettings settings, LineInput& input)
      : loop_(loop),
        settings_(std::move(settings)),
        input_(input),
        background_(loop, [this](const std::string& line) { notify(line); }) {}
  Shell(const Shell&) = delete;
  Shell& operator=(const Shell&) = delete;

  // Opens `first_url` when given, then runs lines until quit or the end of the input, and waits
  // for the background transfers; returns the exit status. Runs the loop meanwhile.
  int run(std::optional<std::string> first_url);
  // Ctrl-C: stops the foreground command, clears the line being typed, or ends a script.
  void interrupt();
  // SIGTERM: stops everything; the exit status becomes 130.
  void terminate();
  // 130 when interrupted; on a terminal 0; for a script 1 when a command or background transfer
  // failed, else 0.
  int exit_status() const;

 private:
  Task<void> main(std::optional<std::string> first_url);
  friend Task<void> run_command(Shell& shell, ShellCommand cmd);
  Task<void> run_foreground(ShellCommand cmd);
  Task<bool> dispatch(const ShellCommand& cmd);

  // ---- the commands (true: it went well)
  Task<bool> open(std::string target);
  Task<bool> user(const std::vector<std::string>& args);
  Task<bool> close();
  Task<bool> ls(const std::vector<std::string>& args);
  Task<bool> cd(std::string path);
  Task<bool> pwd();
  bool lcd(const std::vector<std::string>& args);
  Task<bool> get(const ShellCommand& cmd);
  Task<bool> put(const ShellCommand& cmd);
  Task<bool> mget(const ShellCommand& cmd);
  Task<bool> mput(const ShellCommand& cmd);
  Task<bool> change(const ShellCommand& cmd);  // mkdir, rm, rename
  Task<bool> set_active(bool active);
  bool status();
  bool jobs();
  Task<bool> wait(const std::vector<std::string>& args);
  bool kill(const std::string& id);
  bool help(const std::vector<std::string>& args);

  // ---- the server
  bool connected_somewhere();
  Task<ControlConnection*> session();
  Task<void> close_session();
  std::string remote_path(const std::string& path) const;
  std::string local_path(const std::string& given, const std::string& remote_name) const;
  Job download(const std::string& remote, const std::string& local) const;
  Task<bool> transfer(std::string title, std::vector<Job> jobs, bool background);

  // ---- output
  std::string prompt() const;
  void say(const std::string& text) { write_fd(STDOUT_FILENO, text); }
  void complain(const std::string& text) { write_fd(STDERR_FILENO, "muxftp: " + text + "\n"); }
  // What a person at a terminal likes to be told; stderr, like progress, so that stdout can be
  // redirected to keep just the answers.
  void chat(const std::string& text) {
    if (input_.interactive()) write_fd(STDERR_FILENO, text + "\n");
  }
  void notify(const std::string& line);
  void flush_held();

  EventLoop& loop_;
  ShellSettings settings_;
  LineInput& input_;
  BackgroundJobs background_;
  TaskHandle main_;
  std::optional<Endpoint> endpoint_;
  std::unique_ptr<ControlConnection> conn_;
  TimePoint last_used_{};
  std::string cwd_;  // the remote directory (PWD); empty before the first login
  bool ascii_ = false;
  TaskHandle fg_;  // the command running in the foreground
  TransferRunner* fg_runner_ = nullptr;
  bool fg_cancelled_ = false;
  bool quitting_ = false;
  bool interrupted_ = false;  // leave with 130
  bool failed_ = false;
  std::vector<std::string> held_;  // summaries that ended during a foreground command
};

// Runs the shell on `loop` until quit or the end of stdin, after opening `url` when given (an
// ftp:// URL or HOST[:PORT]). Handles SIGINT and SIGTERM meanwhile. Returns the exit status.
int run_shell(EventLoop& loop, ShellSettings settings, std::optional<std::string> url);

}  // namespace muxio::ftpc
