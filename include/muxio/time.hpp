// Time inside tasks: sleep_for, and with_timeout to bound any awaited task.
#pragma once

#include <coroutine>
#include <cstdint>
#include <optional>

#include "muxio/completion.hpp"
#include "muxio/event_loop.hpp"
#include "muxio/timer.hpp"

namespace muxio {

// co_await current_context(): the TaskContext of the awaiting task, without suspending.
struct CurrentContext {
  TaskContext* ctx = nullptr;
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    ctx = context_of(h);
    return false;
  }
  TaskContext* await_resume() const noexcept { return ctx; }
};
inline CurrentContext current_context() {
  return {};
}

// co_await shielded(task): runs task to its end even if the calling task is cancelled or its
// timeout expires meanwhile; the cancellation takes effect at the first operation after it. For
// short clean-up work that must happen (a final reply, removing a temporary file). Keep it
// bounded: a shielded operation cannot be interrupted.
template <class T>
Task<T> shielded(Task<T> inner) {
  TaskContext* ctx = co_await current_context();
  ++ctx->shield_depth;
  struct Unshield {
    TaskContext* ctx;
    ~Unshield() { --ctx->shield_depth; }
  } unshield{ctx};
  co_return co_await std::move(inner);
}

// co_await sleep_for(d): suspends the task for d; returns Error::cancelled or Error::timed_out if
// the task is cancelled or its timeout expires first. sleep_for(0) yields to the next iteration.
// On io_uring the sleep is a timeout operation on the ring (the kernel's timer completes it like
// any other operation); elsewhere it is a timer of the loop.
class SleepAwaiter final : public Cancellable, public CompletionOp {
 public:
  explicit SleepAwaiter(Duration d) : delay_(d) {}
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return start(context_of(h), h);
  }
  std::error_code await_resume() const noexcept { return result_; }

  void interrupt(std::error_code reason) override;
  CompletionRequest request() override;
  void on_completion(int result) override;

 private:
  bool start(TaskContext* ctx, std::coroutine_handle<> h);
  void wake(std::error_code reason);

  Duration delay_;
  TaskContext* ctx_ = nullptr;
  std::coroutine_handle<> waiting_;
  std::optional<Timer> timer_;
  Proactor* proactor_ = nullptr;  // set while the sleep is on the ring
  std::error_code interrupted_;
  KernelDuration ring_time_;  // read by the kernel when the sleep is submitted
  std::error_code result_;
};

inline SleepAwaiter sleep_for(Duration d) {
  return SleepAwaiter(d);
}

// co_await with_timeout(d, task): runs task; if d passes first, the operation the task waits in
// (and every later one) fails with Error::timed_out, and the result is Error::timed_out whatever
// the task returns. T must be constructible from std::error_code (Result<X>, std::error_code).
template <class T>
Task<T> with_timeout(Duration d, Task<T> inner) {
  TaskContext* ctx = co_await current_context();
  struct Scope {
    TaskContext* ctx;
    bool expired = false;
    ~Scope() {
      if (expired) --ctx->expired_timeouts;
    }
  } scope{ctx};
  Timer timer(*ctx->loop, [&scope] {
    scope.expired = true;
    ++scope.ctx->expired_timeouts;
    scope.ctx->interrupt(make_error_code(Error::timed_out));
  });
  timer.arm_after(d);
  T result = co_await std::move(inner);
  if (scope.expired) co_return T(make_error_code(Error::timed_out));
  co_return result;
}

}  // namespace muxio
