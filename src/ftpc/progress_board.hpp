// ProgressBoard: what stderr shows while transfers run in the foreground — the bars of the
// running jobs and a total redrawn in place on a terminal (progress.hpp renders them), plain
// status lines every two seconds otherwise, and one summary line per finished job either way.
// Shared by muxftp's subcommands and its shell. Loop thread only.
#pragma once

#include <string>
#include <vector>

#include "ftpc/progress.hpp"
#include "ftpc/transfer.hpp"

namespace muxio::ftpc {

enum class BoardMode { bars, lines, none };

class ProgressBoard final : public TransferObserver {
 public:
  // quiet: only failures are reported, and no board.
  ProgressBoard(BoardMode mode, bool quiet)
      : mode_(quiet ? BoardMode::none : mode), quiet_(quiet) {}

  // The jobs to show (their vector must not be resized while attached).
  void attach(const std::vector<Job>* jobs);
  void started(const Job&) override {}
  void finished(const Job& job) override;
  // Samples the rates and redraws; called ~10 times a second (run_board_ticker).
  void tick();
  // Takes the board off the screen (summary lines stay).
  void close();

 private:
  BoardView view() const;
  void draw();

  BoardMode mode_;
  bool quiet_;
  const std::vector<Job>* jobs_ = nullptr;
  std::vector<RateMeter> meters_;
  RateMeter total_meter_;
  std::vector<std::string> pending_;
  int lines_ = 0;
  double last_plain_ = 0;
};

// "done    name  1.2 MiB in 0.4 s (3.0 MiB/s)", "FAILED  name: 550 ...", "skipped name (...)".
std::string job_summary(const Job& job);

// Ticks the board until cancelled (a day at most).
Task<void> run_board_ticker(ProgressBoard& board);

// Runs the jobs with the board up and takes it down after. *current points at the runner while
// it runs, so that an interrupt can stop() it (cancelling this task would not stop the workers).
// A task already cancelled when it gets here stops the runner at once.
Task<void> run_with_board(EventLoop& loop, Endpoint endpoint, std::vector<Job>& jobs,
                          RunOptions options, ProgressBoard& board, TransferRunner** current);

// Seconds since the epoch, as a double: the board's clock.
double now_seconds();
// Writes all of s to fd (EINTR retried; other errors dropped: this is for the terminal).
void write_fd(int fd, std::string_view s);

}  // namespace muxio::ftpc
