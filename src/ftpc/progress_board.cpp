#include "ftpc/progress_board.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "muxio/time.hpp"

namespace muxio::ftpc {

namespace {

// The terminal's width; where the descriptor cannot tell (--progress bars into a pipe), COLUMNS
// as a shell exports it, else 80.
int terminal_width(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    const int n = std::atoi(columns);
    if (n > 0 && n < 10000) return n;
  }
  return 80;
}

std::uint64_t moved_bytes(const Job& j) {
  return j.position > j.start_offset ? j.position - j.start_offset : 0;
}

}  // namespace

double now_seconds() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

void write_fd(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

void ProgressBoard::attach(const std::vector<Job>* jobs) {
  jobs_ = jobs;
  meters_.assign(jobs->size(), RateMeter{});
  total_meter_ = RateMeter{};
}

void ProgressBoard::finished(const Job& job) {
  if (quiet_ && job.state != JobState::failed) return;
  std::string line = job_summary(job);
  if (mode_ == BoardMode::bars) {
    pending_.push_back(line);
    draw();
  } else {
    write_fd(STDERR_FILENO, fit_name(line, 4096) + "\n");
  }
}

void ProgressBoard::tick() {
  if (jobs_ == nullptr) return;
  double t = now_seconds();
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < jobs_->size(); ++i) {
    const Job& j = (*jobs_)[i];
    if (j.state == JobState::running) meters_[i].sample(t, moved_bytes(j));
    total += moved_bytes(j);
  }
  total_meter_.sample(t, total);
  if (mode_ == BoardMode::bars) {
    draw();
  } else if (mode_ == BoardMode::lines && t - last_plain_ >= 2.0) {
    last_plain_ = t;
    bool running = std::any_of(jobs_->begin(), jobs_->end(),
                               [](const Job& j) { return j.state == JobState::running; });
    if (running) write_fd(STDERR_FILENO, render_plain(view()));
  }
}

void ProgressBoard::close() {
  if (mode_ != BoardMode::bars) return;
  if (!pending_.empty()) draw();
  if (lines_ > 0) write_fd(STDERR_FILENO, render_clear(lines_));
  lines_ = 0;
}

BoardView ProgressBoard::view() const {
  BoardView v;
  std::uint64_t done = 0, size = 0;
  bool sizes_known = true;
  for (std::size_t i = 0; i < jobs_->size(); ++i) {
    const Job& j = (*jobs_)[i];
    done += j.done_bytes();
    auto t = j.total_bytes();
    if (t)
      size += *t;
    else
      sizes_known = false;
    if (j.state == JobState::done || j.state == JobState::skipped) ++v.files_done;
    if (j.state == JobState::failed) ++v.files_failed;
    if (j.state == JobState::running) {
      BarView b;
      b.name = j.label;
      b.done = j.done_bytes();
      b.total = j.total_bytes();
      b.rate = meters_[i].rate();
      v.bars.push_back(b);
    }
  }
  v.files_total = jobs_->size();
  v.total.done = done;
  if (sizes_known) v.total.total = size;
  v.total.rate = total_meter_.rate();
  return v;
}

void ProgressBoard::draw() {
  if (jobs_ == nullptr) return;
  int drawn = 0;
  std::string frame = render_frame(view(), terminal_width(STDERR_FILENO), lines_, pending_, &drawn);
  pending_.clear();
  lines_ = drawn;
  write_fd(STDERR_FILENO, frame);
}

std::string job_summary(const Job& j) {
  std::string name = j.label;
  switch (j.state) {
    case JobState::skipped:
      return "skipped " + name + " (already complete)";
    case JobState::failed:
      return "FAILED  " + name + ": " + j.error;
    default:
      break;
  }
  std::uint64_t moved = moved_bytes(j);
  std::string s = "done    " + name + "  " + format_bytes(moved) + " in ";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", j.seconds);
  s += buf;
  if (j.seconds > 0) s += " (" + format_rate(static_cast<double>(moved) / j.seconds) + ")";
  if (j.start_offset > 0 && !j.range) s += ", resumed at " + format_bytes(j.start_offset);
  if (j.attempts > 1) s += ", " + std::to_string(j.attempts) + " attempts";
  if (!j.verified_by.empty()) s += ", verified by " + j.verified_by;
  return s;
}

Task<void> run_board_ticker(ProgressBoard& board) {
  for (int i = 0; i < 100 * 60 * 60 * 24; ++i) {  // a day of ticks at most
    std::error_code stopped = co_await sleep_for(std::chrono::milliseconds(100));
    if (stopped) co_return;
    board.tick();
  }
}

Task<void> run_with_board(EventLoop& loop, Endpoint endpoint, std::vector<Job>& jobs,
                          RunOptions options, ProgressBoard& board, TransferRunner** current) {
  if (jobs.empty()) co_return;
  board.attach(&jobs);
  TransferRunner runner(loop, std::move(endpoint), jobs, options, &board);
  *current = &runner;
  TaskHandle ticker = loop.spawn(run_board_ticker(board));
  TaskContext* ctx = co_await current_context();
  if (ctx->stop_reason()) runner.stop();
  co_await runner.run();
  ticker.cancel();
  (void)co_await ticker.finish();
  board.close();
  *current = nullptr;
}

}  // namespace muxio::ftpc
