#include "ftpc/line_input.hpp"

// libedit's readline compatibility header (Debian: libedit-dev, pkg-config libedit).
#include <editline/readline.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include "ftpc/progress.hpp"
#include "ftpc/progress_board.hpp"
#include "ftpc/shell_command.hpp"
#include "muxio/io_handle.hpp"

namespace muxio::ftpc {

namespace {

constexpr int kHistoryLines = 1000;

// Whether a read(2) of fd would not block: data, end of file, or an error to report.
bool has_input(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

// co_await: until stdin has input. A readiness operation like a socket's, so cancelling the task
// ends the wait.
class ReadableOp final : public IoAwaitable<ReadableOp> {
 public:
  explicit ReadableOp(IoHandle* io) : IoAwaitable(io, Direction::read) {}
  bool perform() override {
    if (has_input(io_->fd())) return true;
    io_->clear_ready(Direction::read);
    return false;
  }
  void fail(std::error_code ec) { error_ = ec; }
  std::error_code await_resume() const { return error_; }

 private:
  std::error_code error_;
};

// stdin as the loop sees it.
class Stdin {
 public:
  explicit Stdin(EventLoop& loop) : io_(loop, STDIN_FILENO) {}
  int fd() const { return STDIN_FILENO; }
  // Until a read would not block; an error when the task was cancelled.
  Task<std::error_code> readable() {
    if (has_input(STDIN_FILENO)) co_return std::error_code{};
    co_return co_await ReadableOp(&io_);
  }

 private:
  IoHandle io_;
};

// Reads a line in the terminal's own (canonical) mode with echo off.
Task<std::optional<std::string>> read_unechoed_line(Stdin& in, std::string prompt) {
  termios old{};
  if (::tcgetattr(in.fd(), &old) < 0) co_return std::nullopt;
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ICANON;
  // Echo off before the prompt shows: what is typed once it is there is never echoed or dropped.
  ::tcsetattr(in.fd(), TCSAFLUSH, &quiet);
  write_fd(STDERR_FILENO, prompt);
  std::string line;
  bool complete = false;
  while (!complete && line.size() < 4096) {
    std::error_code cancelled = co_await in.readable();  // Ctrl-C
    if (cancelled) break;
    char buf[256];
    ssize_t n = ::read(in.fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
    complete = line.back() == '\n';
  }
  ::tcsetattr(in.fd(), TCSANOW, &old);
  write_fd(STDERR_FILENO, "\n");
  if (!complete) co_return std::nullopt;
  line.pop_back();
  co_return line;
}

// ---- a terminal: libedit -----------------------------------------------------------------------

class TerminalInput;
// The input libedit's line handler (a plain C callback) delivers to.
TerminalInput* g_terminal = nullptr;

class TerminalInput final : public LineInput {
 public:
  TerminalInput(EventLoop& loop, std::string history_file)
      : loop_(loop), stdin_(loop), history_file_(std::move(history_file)) {
    g_terminal = this;
    // The loop owns the signals: libedit's handlers would re-send them to the process group.
    rl_catch_signals = 0;
    rl_readline_name = "muxftp";
    // The prompt goes to the terminal: stdout, or stderr when stdout is redirected (ls > file).
    if (!::isatty(STDOUT_FILENO) && ::isatty(STDERR_FILENO)) rl_outstream = stderr;
    rl_initialize();
    screen_fd_ = rl_outstream != nullptr ? ::fileno(rl_outstream) : STDOUT_FILENO;
    stifle_history(kHistoryLines);
    if (!history_file_.empty()) read_history(history_file_.c_str());
    // libedit only learns a new window size from SIGWINCH, which it no longer catches.
    (void)loop_.add_signal_handler(SIGWINCH, [] { rl_resize_terminal(); });
  }

  ~TerminalInput() override {
    loop_.remove_signal_handler(SIGWINCH);
    if (prompting_) rl_callback_handler_remove();
    if (!history_file_.empty()) {
      write_history(history_file_.c_str());
      ::chmod(history_file_.c_str(), 0600);  // what was typed is nobody else's business
    }
    g_terminal = nullptr;
  }

  Task<std::optional<std::string>> read_line(std::string prompt) override {
    prompt_ = prompt;
    line_.reset();
    finished_ = false;
    install();
    while (!finished_) {
      std::error_code cancelled = co_await stdin_.readable();
      if (cancelled) break;
      // One character per call; escape sequences and pastes bring several at once.
      while (!finished_ && has_input(stdin_.fd()))
        rl_callback_read_char();
    }
    if (prompting_) rl_callback_handler_remove();
    prompting_ = false;
    if (!line_) write_fd(screen_fd_, "\n");  // Ctrl-D or cancelled: leave the prompt's line
    if (line_) remember(*line_);
    co_return line_;
  }

  Task<std::optional<std::string>> read_secret(std::string prompt) override {
    co_return co_await read_unechoed_line(stdin_, prompt);
  }

  void print_above(std::string_view lines) override {
    if (!prompting_) {
      write_fd(STDERR_FILENO, lines);
      return;
    }
    // Back to the first row of the prompt, clear from there, print, draw the prompt again.
    std::size_t cols = static_cast<std::size_t>(terminal_columns());
    std::string typed = rl_line_buffer != nullptr ? std::string(rl_line_buffer) : std::string();
    std::size_t point =
        std::min<std::size_t>(static_cast<std::size_t>(std::max(rl_point, 0)), typed.size());
    std::size_t column = display_width(prompt_) + display_width(typed.substr(0, point));
    std::string erase = "\r";
    if (std::size_t rows_up = column / cols; rows_up > 0)
      erase += "\x1b[" + std::to_string(rows_up) + "A";
    erase += "\x1b[J";
    write_fd(screen_fd_, erase);
    write_fd(STDERR_FILENO, lines);
    rl_forced_update_display();
  }

  void interrupt() override {
    if (!prompting_) return;
    // Removing and installing the handler is what makes libedit forget the half-typed line.
    write_fd(screen_fd_, "^C\n");
    rl_callback_handler_remove();
    install();
  }

  bool interactive() const override { return true; }

 private:
  static void on_line(char* line) {
    TerminalInput* self = g_terminal;
    if (self == nullptr) return;
    if (line != nullptr) {
      self->line_ = std::string(line);
      std::free(line);
    }
    self->finished_ = true;
  }

  void install() {
    rl_callback_handler_install(prompt_.c_str(), &TerminalInput::on_line);
    prompting_ = true;
  }

  // Blank lines, repeats and lines holding a password stay out of the history.
  void remember(const std::string& line) {
    if (line.find_first_not_of(" \t") == std::string::npos) return;
    auto entry = history_entry(line);
    if (!entry) return;
    if (history_length > 0) {
      HIST_ENTRY* last = history_get(history_base + history_length - 1);
      if (last != nullptr && last->line != nullptr && *entry == last->line) return;
    }
    add_history(entry->c_str());
  }

  int terminal_columns() const {
    winsize ws{};
    if (::ioctl(screen_fd_, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
  }

  EventLoop& loop_;
  Stdin stdin_;
  std::string history_file_;
  int screen_fd_ = STDOUT_FILENO;  // where libedit draws the prompt
  std::string prompt_;
  std::optional<std::string> line_;
  bool finished_ = false;
  bool prompting_ = false;
};

// ---- a script: lines from a pipe or a file -----------------------------------------------------

class ScriptInput final : public LineInput {
 public:
  explicit ScriptInput(EventLoop& loop) : stdin_(loop) {}

  Task<std::optional<std::string>> read_line(std::string) override {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        co_return line;
      }
      if (ended_) break;
      std::error_code cancelled = co_await stdin_.readable();
      if (cancelled) break;
      char buf[65536];
      ssize_t n = ::read(stdin_.fd(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ended_ = true;
        continue;
      }
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
    if (buffer_.empty()) co_return std::nullopt;
    co_return std::exchange(buffer_, std::string());  // a last line without its newline
  }

  Task<std::optional<std::string>> read_secret(std::string) override { co_return std::nullopt; }

  void print_above(std::string_view lines) override { write_fd(STDERR_FILENO, lines); }
  void interrupt() override {}
  bool interactive() const override { return false; }

 private:
  Stdin stdin_;
  std::string buffer_;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<LineInput> make_terminal_input(EventLoop& loop, std::string history_file) {
  return std::make_unique<TerminalInput>(loop, std::move(history_file));
}

std::unique_ptr<LineInput> make_script_input(EventLoop& loop) {
  return std::make_unique<ScriptInput>(loop);
}

}  // namespace muxio::ftpc
