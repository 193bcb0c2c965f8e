// The transfers muxftp's shell runs in the background (a trailing '&'): each one a
// TransferRunner on the shell's loop with sessions of its own, numbered like a shell's jobs.
// `jobs` shows their progress; when one ends, its one-line summary goes to the notify callback
// (the shell prints it above its prompt). Loop thread only.
//
// Lifetime: the runners hold references into this object, so its owner must stop_all() and
// co_await wait_all() before destroying it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ftpc/transfer.hpp"

namespace muxio::ftpc {

class BackgroundJobs {
 public:
  // notify(line): a finished job's summary, "[2] done    big.iso  1.00 GiB in 9.8 s (...)".
  BackgroundJobs(EventLoop& loop, std::function<void(const std::string&)> notify);
  BackgroundJobs(const BackgroundJobs&) = delete;
  BackgroundJobs& operator=(const BackgroundJobs&) = delete;

  // Starts the jobs (what the user typed as `title`); returns the job's number.
  int start(std::string title, Endpoint endpoint, std::vector<Job> jobs, RunOptions options);

  // One line per running job: "[1] get big.iso  [===>   ]  45%  450 MiB/1.00 GiB  80 MiB/s ...".
  std::string listing(int width) const;
  std::size_t running() const;
  bool exists(int id) const;
  // Whether any job ended with a failed file (the shell's exit status).
  bool failed_any() const { return failed_any_; }

  // Stops job `id` (kill): its files stay as they are; false when there is no such job.
  bool stop(int id);
  void stop_all();
  // Until job `id` (every job when none) has ended. Cancelling the waiting task (Ctrl-C) ends
  // the wait, not the jobs.
  Task<void> wait(std::optional<int> id);
  // Until every job has ended, even if the waiting task is cancelled: before destruction.
  Task<void> wait_all();

 private:
  struct Entry {
    int id = 0;
    std::string title;
    std::vector<Job> jobs;
    std::unique_ptr<TransferRunner> runner;
    TaskHandle task;
    double started = 0;
    bool done = false;
  };
  friend Task<void> run_background_entry(BackgroundJobs& self, Entry& entry);
  void finished(Entry& entry);
  void reap();
  static std::string summary(const Entry& entry);

  EventLoop& loop_;
  std::function<void(const std::string&)> notify_;
  std::vector<std::unique_ptr<Entry>> entries_;
  int next_id_ = 1;
  bool failed_any_ = false;
};

}  // namespace muxio::ftpc
