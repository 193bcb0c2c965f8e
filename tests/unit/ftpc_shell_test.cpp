// muxftp's shell run on a script of lines, with no server: the commands that answer locally
// (status, ascii, active, jobs, help, lcd), what a command needing a server says without one,
// and the exit status of a script.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <filesystem>

#include "ftpc/shell.hpp"

using namespace muxio;
using namespace muxio::ftpc;
namespace fs = std::filesystem;

namespace {

// A script on stdin, as the shell sees it: lines one by one, no terminal.
class ScriptInput final : public LineInput {
 public:
  explicit ScriptInput(std::vector<std::string> lines) : lines_(lines.begin(), lines.end()) {}
  Task<std::optional<std::string>> read_line(std::string) override {
    if (lines_.empty()) co_return std::nullopt;
    std::string line = lines_.front();
    lines_.pop_front();
    co_return line;
  }
  Task<std::optional<std::string>> read_secret(std::string) override { co_return std::nullopt; }
  void print_above(std::string_view) override {}
  void interrupt() override {}
  bool interactive() const override { return false; }

 private:
  std::deque<std::string> lines_;
};

// What a descriptor (stdout, stderr) receives while this lives: into a temporary file.
class Captured {
 public:
  explicit Captured(int fd) : fd_(fd), file_(std::tmpfile()) {
    std::fflush(nullptr);
    saved_ = ::dup(fd_);
    ::dup2(::fileno(file_), fd_);
  }
  ~Captured() { restore(); }
  std::string text() {
    restore();
    std::string out;
    char buf[4096];
    off_t at = 0;
    for (ssize_t n; (n = ::pread(::fileno(file_), buf, sizeof buf, at)) > 0; at += n)
      out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(nullptr);
    ::dup2(saved_, fd_);
    ::close(saved_);
    saved_ = -1;
  }
  int fd_;
  std::FILE* file_;
  int saved_ = -1;
};

struct ShellRun {
  int status;
  std::string out;
  std::string err;
};

ShellRun run_script(std::vector<std::string> lines) {
  EventLoop loop;
  ScriptInput input(std::move(lines));
  ShellSettings settings;
  settings.board = BoardMode::none;
  Shell shell(loop, settings, input);
  Captured out(STDOUT_FILENO);
  Captured err(STDERR_FILENO);
  int status = shell.run(std::nullopt);
  return ShellRun{status, out.text(), err.text()};
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(Shell, StatusBeforeOpenTellsTheDefaults) {
  ShellRun r = run_script({"status"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "server:      not connected\n")) << r.out;
  EXPECT_TRUE(has(r.out, "type:        binary\n")) << r.out;
  EXPECT_TRUE(has(r.out, "mode:        passive\n")) << r.out;
  EXPECT_TRUE(has(r.out, "parallel:    4 transfers")) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(Shell, AsciiAndActiveChangeWhatStatusTells) {
  ShellRun r = run_script({"ascii", "active", "status", "binary", "passive", "status"});
  EXPECT_EQ(r.status, 0) << r.err;
  auto first = r.out.find("type:        ascii\n");
  ASSERT_NE(first, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mode:        active\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("type:        binary\n", first), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mode:        passive\n", first), std::string::npos) << r.out;
}

TEST(Shell, ServerCommandsWithoutAServerFailAndTheScriptGoesOn) {
  ShellRun r = run_script({"ls", "get file.txt", "status"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(has(r.err, "muxftp: not connected (open URL first)\n")) << r.err;
  EXPECT_TRUE(has(r.out, "server:      not connected")) << r.out;  // the line after still ran
}

TEST(Shell, UnknownCommandsAndBadArgumentsFail) {
  ShellRun unknown = run_script({"frobnicate"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_TRUE(has(unknown.err, "frobnicate: no such command")) << unknown.err;
  ShellRun usage = run_script({"rename onlyone"});
  EXPECT_EQ(usage.status, 1);
  EXPECT_TRUE(has(usage.err, "usage: ")) << usage.err;
}

TEST(Shell, HelpListsCommandsAndExplainsOne) {
  ShellRun all = run_script({"help"});
  EXPECT_EQ(all.status, 0);
  EXPECT_TRUE(has(all.out, "a trailing & runs a transfer in the background")) << all.out;
  EXPECT_TRUE(has(all.out, "mget")) << all.out;
  ShellRun one = run_script({"help get"});
  EXPECT_TRUE(has(one.out, "usage: get")) << one.out;
  ShellRun none = run_script({"help frobnicate"});
  EXPECT_EQ(none.status, 1);
  EXPECT_TRUE(has(none.err, "help: frobnicate: no such command")) << none.err;
}

TEST(Shell, JobsWaitAndKillWithNothingInTheBackground) {
  ShellRun r = run_script({"jobs", "wait"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "no background transfers\n")) << r.out;
  ShellRun kill = run_script({"kill 3"});
  EXPECT_EQ(kill.status, 1);
  EXPECT_TRUE(has(kill.err, "kill: no background transfer 3")) << kill.err;
}

TEST(Shell, QuitEndsTheScript) {
  ShellRun r = run_script({"quit", "status"});
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(Shell, LcdChangesTheLocalDirectory) {
  std::error_code ec;
  fs::path before = fs::current_path();
  fs::path target = fs::canonical(fs::temp_directory_path());
  ShellRun r = run_script({"lcd " + target.string(), "status"});
  fs::path after = fs::current_path();
  fs::current_path(before, ec);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(after, target);
  EXPECT_TRUE(has(r.out, "local dir:   " + target.string() + "\n")) << r.out;
  ShellRun missing = run_script({"lcd /nonexistent/ftpc-shell-test"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_TRUE(has(missing.err, "lcd /nonexistent/ftpc-shell-test: ")) << missing.err;
}

TEST(Shell, EveryServerCommandReachesItsHandlerAndNeedsAServer) {
  // Each line parses, is dispatched to its command, and that command asks for a server: one
  // "not connected" per line, and the script goes on to the end.
  const std::vector<std::string> lines = {
      "cd /pub",    "pwd",     "mkdir d",    "rm f",  "delete f",
      "rename a b", "get f &", "mget *.bin", "close", "user alice secret",
  };
  ShellRun r = run_script(lines);
  EXPECT_EQ(r.status, 1);
  std::size_t said = 0;
  for (auto p = r.err.find("not connected (open URL first)"); p != std::string::npos;
       p = r.err.find("not connected (open URL first)", p + 1))
    ++said;
  EXPECT_EQ(said, lines.size()) << r.err;
}

TEST(Shell, BackgroundOnlyForTransfersAndOpenNeedsAUrl) {
  ShellRun ls = run_script({"ls &"});
  EXPECT_EQ(ls.status, 1);
  EXPECT_FALSE(has(ls.err, "not connected")) << ls.err;  // refused before dispatch
  ShellRun open = run_script({"open ftp://[::1"});
  EXPECT_EQ(open.status, 1);
  EXPECT_TRUE(has(open.err, "muxftp: ftp://[::1: ")) << open.err;
}
