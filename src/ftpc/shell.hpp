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

#include <optional>
#include <string>

#include "ftpc/control.hpp"
#include "ftpc/progress_board.hpp"
#include "ftpc/tls_options.hpp"

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

// Runs the shell on `loop` until quit or the end of stdin, after opening `url` when given (an
// ftp:// URL or HOST[:PORT]). Handles SIGINT and SIGTERM meanwhile. Returns the exit status.
int run_shell(EventLoop& loop, ShellSettings settings, std::optional<std::string> url);

}  // namespace muxio::ftpc
