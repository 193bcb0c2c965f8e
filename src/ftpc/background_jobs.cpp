#include "ftpc/background_jobs.hpp"

#include <algorithm>
#include <cstdio>

#include "ftpc/progress.hpp"
#include "ftpc/progress_board.hpp"

namespace muxio::ftpc {

namespace {

std::uint64_t moved_bytes(const Job& j) {
  return j.position > j.start_offset ? j.position - j.start_offset : 0;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

}  // namespace

Task<void> run_background_entry(BackgroundJobs& self, BackgroundJobs::Entry& entry) {
  co_await entry.runner->run();
  self.finished(entry);
}

BackgroundJobs::BackgroundJobs(EventLoop& loop, std::function<void(const std::string&)> notify)
    : loop_(loop), notify_(std::move(notify)) {}

int BackgroundJobs::start(std::string title, Endpoint endpoint, std::vector<Job> jobs,
                          RunOptions options) {
  reap();
  auto entry = std::make_unique<Entry>();
  Entry& e = *entry;
  e.id = next_id_++;
  e.title = std::move(title);
  e.jobs = std::move(jobs);
  e.started = now_seconds();
  e.runner = std::make_unique<TransferRunner>(loop_, std::move(endpoint), e.jobs, options, nullptr);
  entries_.push_back(std::move(entry));
  e.task = loop_.spawn(run_background_entry(*this, e));
  return e.id;
}

void BackgroundJobs::finished(Entry& entry) {
  entry.done = true;
  for (const Job& j : entry.jobs)
    if (j.state == JobState::failed || j.state == JobState::queued) failed_any_ = true;
  notify_(summary(entry));
}

// Finished entries go once their task is over (never from inside it).
void BackgroundJobs::reap() {
  std::erase_if(entries_, [](const std::unique_ptr<Entry>& e) { return e->task.done(); });
}

std::string BackgroundJobs::summary(const Entry& e) {
  std::string tag = "[" + std::to_string(e.id) + "] ";
  double seconds = std::max(now_seconds() - e.started, 0.0);
  if (e.jobs.size() == 1) return tag + job_summary(e.jobs[0]);
  std::size_t failed = 0, done = 0;
  std::uint64_t bytes = 0;
  const Job* first_failure = nullptr;
  for (const Job& j : e.jobs) {
    bytes += moved_bytes(j);
    if (j.state == JobState::done || j.state == JobState::skipped) ++done;
    if (j.state == JobState::failed || j.state == JobState::queued) {
      ++failed;
      if (first_failure == nullptr && j.state == JobState::failed) first_failure = &j;
    }
  }
  std::string files = std::to_string(e.jobs.size()) + " files";
  if (failed == 0) {
    std::string s = tag + "done    " + e.title + ": " + files + ", " + format_bytes(bytes) +
                    " in " + seconds_text(seconds);
    if (seconds > 0) s += " (" + format_rate(static_cast<double>(bytes) / seconds) + ")";
    return s;
  }
  std::string s = tag + "FAILED  " + e.title + ": " + std::to_string(failed) + " of " + files +
                  " not transferred";
  if (first_failure != nullptr)
    s += " (" + first_failure->label + ": " + first_failure->error + ")";
  return s;
}

std::string BackgroundJobs::listing(int width) const {
  std::string out;
  double t = now_seconds();
  for (const auto& e : entries_) {
    if (e->done) continue;
    BarView bar;
    bar.name = "[" + std::to_string(e->id) + "] " + e->title;
    std::size_t finished = 0;
    bool sizes_known = true;
    std::uint64_t total = 0, moved = 0;
    for (const Job& j : e->jobs) {
      bar.done += j.done_bytes();
      moved += moved_bytes(j);
      if (auto s = j.total_bytes())
        total += *s;
      else
        sizes_known = false;
      if (j.state != JobState::queued && j.state != JobState::running) ++finished;
    }
    if (e->jobs.size() > 1)
      bar.name += " (" + std::to_string(finished) + "/" + std::to_string(e->jobs.size()) + ")";
    if (sizes_known) bar.total = total;
    double elapsed = t - e->started;
    if (elapsed > 0.5) bar.rate = static_cast<double>(moved) / elapsed;  // the average so far
    out += render_bar_line(bar, width) + "\n";
  }
  return out;
}

std::size_t BackgroundJobs::running() const {
  return static_cast<std::size_t>(std::count_if(
      entries_.begin(), entries_.end(), [](const std::unique_ptr<Entry>& e) { return !e->done; }));
}

bool BackgroundJobs::exists(int id) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [id](const std::unique_ptr<Entry>& e) { return e->id == id && !e->done; });
}

bool BackgroundJobs::stop(int id) {
  for (auto& e : entries_) {
    if (e->id == id && !e->done) {
      e->runner->stop();
      return true;
    }
  }
  return false;
}

void BackgroundJobs::stop_all() {
  for (auto& e : entries_)
    if (!e->done) e->runner->stop();
}

Task<void> BackgroundJobs::wait(std::optional<int> id) {
  std::vector<TaskHandle> tasks;
  for (auto& e : entries_)
    if (!id || e->id == *id) tasks.push_back(e->task);
  for (auto& t : tasks) {
    std::error_code cancelled = co_await t.join();
    if (cancelled) co_return;  // Ctrl-C: stop waiting, the jobs go on
  }
}

Task<void> BackgroundJobs::wait_all() {
  std::vector<TaskHandle> tasks;
  for (auto& e : entries_)
    tasks.push_back(e->task);
  for (auto& t : tasks)
    (void)co_await t.finish();
  reap();
}

}  // namespace muxio::ftpc
