// Where muxftp's shell gets its lines: a terminal, through libedit (line editing, history in a
// file, a prompt), or a pipe or file, line by line with no prompt and no editing. Both wait for
// stdin through the event loop — stdin's readiness is watched like a socket's — so background
// transfers on the same loop keep running while the shell waits for a line.
//
// libedit is used through its readline-compatible callback interface: the loop reports stdin
// readable, rl_callback_read_char() takes the characters, and the line handler receives the
// finished line. Between two lines the terminal is back in its normal mode (what a foreground
// command prints, and Ctrl-C, behave as usual). Loop thread only; one terminal input at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "muxio/event_loop.hpp"

namespace muxio::ftpc {

class LineInput {
 public:
  virtual ~LineInput() = default;

  // The next line (without its end of line); nullopt at the end of the input (Ctrl-D, the end of
  // the script). On a terminal, the prompt is shown and the line is added to the history.
  virtual Task<std::optional<std::string>> read_line(std::string prompt) = 0;
  // A line typed without echo (a password); nullopt when the input is not a terminal, at its end,
  // or when the task is cancelled (the terminal's echo is restored either way).
  virtual Task<std::optional<std::string>> read_secret(std::string prompt) = 0;
  // Prints whole lines to stderr while read_line may be showing its prompt: they appear above
  // the prompt and the half-typed line, which are drawn again below them.
  virtual void print_above(std::string_view lines) = 0;
  // Ctrl-C during read_line: drops the half-typed line and shows a fresh prompt.
  virtual void interrupt() = 0;
  virtual bool interactive() const = 0;
};

// stdin is a terminal: libedit, with the history kept in history_file (the last 1000 lines).
std::unique_ptr<LineInput> make_terminal_input(EventLoop& loop, std::string history_file);
// stdin is a pipe or a file.
std::unique_ptr<LineInput> make_script_input(EventLoop& loop);

}  // namespace muxio::ftpc
