// TransferRunner: runs a list of transfer jobs on N sessions at once (-j N), each worker with its
// own control connection, taking the next job when it finishes one. A job that fails with a
// transient error (is_transient) is retried on a fresh session after a growing pause, resuming
// from what it already transferred; other errors fail that job only and the rest go on.
//
// Downloads are written in place (the final name), so an interrupted one can be resumed (REST):
// with `resume`, a local file shorter than the remote one continues; an equal one is skipped.
// Uploads resume after SIZE with REST+STOR when the server offers REST STREAM, else APPE; when
// the server refuses the one (refuses_resumed_store), APPE, then the whole file, are tried in the
// same attempt, and the refusal is remembered for the runner's later files.
//
// stop() (Ctrl-C) cancels every worker: their pending operation fails at once, files stay as
// they are. The jobs vector is shared with the caller (the progress board reads it) and must not
// be resized while run() is in progress. Loop thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ftpc/control.hpp"
#include "ftpc/endpoint.hpp"
#include "ftpc/retry_policy.hpp"
#include "muxio/task_handle.hpp"

namespace muxio::ftpc {

enum class JobKind { get, put };
enum class JobState { queued, running, done, skipped, failed };

struct Job {
  JobKind direction = JobKind::get;
  std::string remote;                 // path on the server
  std::string local;                  // path here
  std::string label;                  // what the board shows
  std::optional<std::uint64_t> size;  // known beforehand (listing, stat), else asked
  std::optional<std::int64_t> mtime;  // set on the copy when preserve_mtime
  // Segmented download: this job fetches [first, second) of the file; the file is not truncated.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> range;

  JobState state = JobState::queued;
  std::uint64_t position = 0;      // absolute offset reached in the file
  std::uint64_t start_offset = 0;  // where this run started (resume)
  int attempts = 0;
  std::string error;
  std::string verified_by;  // --verify: "SHA-256", "SIZE", ...
  double seconds = 0;       // time from start to end

  std::uint64_t done_bytes() const { return range ? position - range->first : position; }
  std::optional<std::uint64_t> total_bytes() const {
    if (range) return range->second - range->first;
    return size;
  }
};

class TransferObserver {
 public:
  virtual void started(const Job& job) = 0;
  virtual void finished(const Job& job) = 0;

 protected:
  ~TransferObserver() = default;
};

struct RunOptions {
  std::size_t parallel = 4;
  bool resume = false;
  int retries = 3;                                    // attempts after the first
  Duration backoff = std::chrono::milliseconds(500);  // doubled at each retry, at most 10 s
  bool preserve_mtime = false;
  // TYPE A with local line ends converted (ascii_files.hpp): whole files only, no resume.
  bool ascii = false;
  // After each whole-file binary transfer, check the copy (verify.hpp); segments are not.
  bool verify = false;
};

class TransferRunner {
 public:
  TransferRunner(EventLoop& loop, Endpoint endpoint, std::vector<Job>& jobs, RunOptions options,
                 TransferObserver* observer);
  TransferRunner(const TransferRunner&) = delete;
  TransferRunner& operator=(const TransferRunner&) = delete;

  // Runs every job; returns when each is done, skipped or failed, or after stop().
  Task<void> run();
  void stop();
  bool stopped() const { return stopping_; }

 private:
  friend Task<void> transfer_worker(TransferRunner& runner);
  Task<void> work();
  Task<std::error_code> attempt(Job& job, ControlConnection& conn);
  Task<std::error_code> get(Job& job, ControlConnection& conn);
  Task<std::error_code> put(Job& job, ControlConnection& conn);
  Task<std::error_code> store_resumed(Job& job, ControlConnection& conn, int fd,
                                      std::uint64_t offset, ControlConnection::StoreMode mode);
  Task<std::error_code> get_text(Job& job, ControlConnection& conn);
  Task<std::error_code> put_text(Job& job, ControlConnection& conn);

  EventLoop& loop_;
  Endpoint endpoint_;
  std::vector<Job>& jobs_;
  RunOptions options_;
  TransferObserver* observer_;
  std::size_t next_ = 0;
  bool stopping_ = false;
  // What this server refused when an upload was resumed: later files go straight to what works.
  bool restart_refused_ = false;
  bool append_refused_ = false;
  std::vector<TaskHandle> workers_;
};

}  // namespace muxio::ftpc
