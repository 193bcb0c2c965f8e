// ThreadPool: a few worker threads for work that would block an event loop — disk calls that can
// stall (open, stat, fsync, rename, readdir), password hashing. `co_await offload(fn)` runs fn on
// the pool and resumes the awaiting task on its own loop with the result (or the exception).
//
// offload cannot stop fn once it has started: a task cancelled while it waits still receives the
// result, and its next operation fails with Error::cancelled. Keep offloaded work bounded.
#pragma once

#include <condition_variable>
#include <coroutine>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "muxio/event_loop.hpp"

namespace muxio {

class ThreadPool {
 public:
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool();  // finishes the queued work, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void submit(std::function<void()> work);
  std::size_t size() const { return workers_.size(); }
  // Work submitted and not yet started by a worker (takes the queue's lock briefly).
  std::size_t queued();

 private:
  void work_loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// The process-wide pool loops use unless given another (4 threads, created on first use).
ThreadPool& default_thread_pool();

template <class F>
class OffloadAwaiter {
 public:
  using R = std::invoke_result_t<F&>;
  explicit OffloadAwaiter(F fn) : fn_(std::move(fn)) {}

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    EventLoop* loop = context_of(h)->loop;
    loop->offload_started();
    loop->offload_pool().submit([this, loop, h] {
      try {
        if constexpr (std::is_void_v<R>) {
          fn_();
        } else {
          result_.emplace(fn_());
        }
      } catch (...) {
        error_ = std::current_exception();
      }
      loop->call_soon_threadsafe([h] { h.resume(); });
      loop->offload_finished();  // last touch of the loop: its destructor waits for this
    });
  }
  R await_resume() {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<R>) return std::move(*result_);
  }

 private:
  F fn_;
  std::conditional_t<std::is_void_v<R>, bool, std::optional<R>> result_{};
  std::exception_ptr error_;
};

// co_await offload([&] { return expensive(); }) — runs on the loop's pool, resumes on the loop.
template <class F>
OffloadAwaiter<std::decay_t<F>> offload(F&& fn) {
  // g++ 12 destroys a lambda temporary written inside a co_await expression one time too many
  // when its captures have destructors (a string captured by value is freed twice). Capture by
  // reference — the coroutine frame keeps the referenced locals alive while fn runs.
  static_assert(std::is_trivially_destructible_v<std::decay_t<F>>,
                "capture by reference in offload(): see the comment above");
  return OffloadAwaiter<std::decay_t<F>>(std::forward<F>(fn));
}

// offload as a Task, for composing with shielded() or with_timeout().
template <class F>
Task<std::invoke_result_t<std::decay_t<F>&>> offload_task(F fn) {
  co_return co_await offload(std::move(fn));
}

}  // namespace muxio
