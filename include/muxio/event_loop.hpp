// EventLoop: one per thread. It owns a Selector, the timers, the ready queue and the tasks spawned
// on it, and runs them in iterations (the contract is written down in docs/ARCHITECTURE.md):
//
//   1. wait in the selector — not at all if work is ready, else until the next timer;
//   2. dispatch readiness to the watchers of the ready descriptors;
//   3. fire the timers that are due;
//   4. run the callbacks and coroutines that were ready when this phase began.
//
// Everything is loop-thread-only except stop() and call_soon_threadsafe(), which wake the loop
// through an eventfd. Signals reach the loop through a self-pipe, so a handler can do anything.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "muxio/clock.hpp"
#include "muxio/loop_thread.hpp"
#include "muxio/selector.hpp"
#include "muxio/task.hpp"
#include "muxio/task_handle.hpp"
#include "muxio/timer.hpp"

namespace muxio {

class ThreadPool;

// Receives the readiness of a descriptor registered with the loop's selector (key.data).
class IoWatcher {
 public:
  virtual void on_events(Events ready) = 0;

 protected:
  ~IoWatcher() = default;
};

using TimerId = std::uint64_t;

class EventLoop {
 public:
  // Throws std::system_error when the backend does not exist or cannot start.
  explicit EventLoop(std::string_view backend = "best");
  explicit EventLoop(std::unique_ptr<Selector> selector);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The loop that last ran (or was created) on this thread.
  static EventLoop* current();

  // Aborts, naming `call`, when the calling thread is not the loop's (see loop_thread.hpp; a
  // no-op unless the check is compiled in). Called by every loop-thread-only entry point that
  // touches shared state: the queues, timers, descriptor registrations, ring submissions.
  void assert_in_loop_thread(const char* call) const { thread_.check(call); }

  // Runs iterations until stop().
  void run();
  // One iteration, waiting at most max_wait for IO when nothing is ready (negative: no limit).
  void run_once(Duration max_wait = Duration(-1));
  // Makes run() return after the current iteration. Thread-safe.
  void stop();
  bool stop_requested() const { return stop_.load(std::memory_order_relaxed); }

  // Runs the loop until `task` completes and returns its result (rethrows its exception).
  template <class T>
  T run_until_complete(Task<T> task);

  // The time at the start of the current iteration: cheap, and the same for every callback.
  TimePoint now() const { return now_; }
  // Total time this loop spent waiting in its selector (idle), for a busy ratio. Loop thread.
  Duration time_waiting() const { return waiting_; }
  void update_now() { now_ = Clock::now(); }

  void call_soon(std::function<void()> fn);
  void call_soon_threadsafe(std::function<void()> fn);
  TimerId call_later(Duration delay, std::function<void()> fn);
  bool cancel_timer(TimerId id);

  // Runs `handler` on this loop whenever signo arrives (process-wide: one loop per signal).
  std::error_code add_signal_handler(int signo, std::function<void()> handler);
  void remove_signal_handler(int signo);

  // Starts `task` on this loop. The loop owns it until it finishes; the handle may cancel or join
  // it. A task still running when the loop is destroyed is destroyed with it, after every task
  // spawned later (so a task spawned by another goes before its spawner).
  TaskHandle spawn(Task<void> task);
  std::size_t task_count() const { return tasks_.size(); }
  // True while the loop is being destroyed (it then destroys the frames of unfinished tasks).
  bool closing() const { return closing_; }
  // Cancels every task spawned on this loop (a graceful shutdown then runs the loop until
  // task_count() is 0 or a deadline passes).
  void cancel_all();

  // Schedules a suspended coroutine to resume in phase 4 of this or the next iteration.
  void resume_soon(std::coroutine_handle<> h) {
    assert_in_loop_thread("EventLoop::resume_soon");
    ready_.push_back(Job{h, {}});
  }

  Selector& selector() { return *selector_; }
  TimerQueue& timers() { return timers_; }
  ThreadPool& offload_pool();
  void set_offload_pool(ThreadPool* pool) { pool_ = pool; }
  // Work in flight on the pool refers to this loop; the destructor waits until none is left.
  void offload_started() { offloads_.fetch_add(1, std::memory_order_relaxed); }
  void offload_finished() { offloads_.fetch_sub(1, std::memory_order_release); }

 private:
  struct Job {
    std::coroutine_handle<> coroutine;
    std::function<void()> callback;
  };
  class Wakeup;
  class SignalPipe;
  friend struct detail::SpawnedTask;

  void dispatch_io(Duration max_wait);
  void fire_timers();
  void run_ready();
  void task_finished(detail::SpawnedTask* task);

  std::unique_ptr<Selector> selector_;
  TimerQueue timers_;
  TimePoint now_;
  Duration waiting_{};
  std::vector<Job> ready_;
  std::vector<Job> running_;
  std::atomic<bool> stop_{false};
  LoopThread thread_;

  std::unordered_map<TimerId, std::unique_ptr<Timer>> callback_timers_;
  TimerId next_timer_id_ = 1;

  std::unique_ptr<Wakeup> wakeup_;
  std::unique_ptr<SignalPipe> signals_;

  std::unordered_map<detail::SpawnedTask*, std::shared_ptr<detail::SpawnedTask>> tasks_;
  std::uint64_t next_spawn_order_ = 0;
  bool closing_ = false;
  ThreadPool* pool_ = nullptr;
  std::atomic<int> offloads_{0};
};

template <class T>
T EventLoop::run_until_complete(Task<T> task) {
  using Slot = std::conditional_t<std::is_void_v<T>, bool, std::optional<T>>;
  Slot slot{};
  auto wrapper = [](Task<T> t, Slot& out) -> Task<void> {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(t);
      out = true;
    } else {
      out.emplace(co_await std::move(t));
    }
  };
  TaskHandle handle = spawn(wrapper(std::move(task), slot));
  stop_.store(false);
  while (!handle.done() && !stop_requested())
    run_once();
  handle.rethrow_if_failed();
  if (!handle.done()) throw std::runtime_error("event loop stopped before the task completed");
  if constexpr (!std::is_void_v<T>) return std::move(*slot);
}

}  // namespace muxio
