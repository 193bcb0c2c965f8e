// TaskHandle: a reference to a task spawned on an EventLoop — cancel it, ask whether it is done,
// or co_await its end. The loop owns the task; the handle only keeps its record alive. Loop thread
// only.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <vector>

#include "muxio/task.hpp"

namespace muxio {

class EventLoop;
class TaskHandle;

namespace detail {

struct JoinAwaiter;

struct SpawnedTask {
  EventLoop* loop = nullptr;
  TaskContext context;
  Task<void> task;
  std::uint64_t spawn_order = 0;  // the loop destroys unfinished frames newest first
  bool done = false;
  std::exception_ptr error;
  std::vector<JoinAwaiter*> joiners;

  static void on_done(void* self);
};

struct JoinAwaiter final : Cancellable {
  JoinAwaiter(std::shared_ptr<SpawnedTask> t, bool shielded)
      : task(std::move(t)), shielded(shielded) {}
  JoinAwaiter(const JoinAwaiter&) = delete;
  JoinAwaiter& operator=(const JoinAwaiter&) = delete;
  ~JoinAwaiter();

  std::shared_ptr<SpawnedTask> task;
  TaskContext* ctx = nullptr;
  std::coroutine_handle<> waiting;
  bool shielded = false;  // the joiner's cancellation does not end the wait
  std::error_code result;

  bool await_ready() const noexcept { return !task || task->done; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    ctx = context_of(h);
    if (!shielded && (result = ctx->stop_reason())) return false;
    waiting = h;
    task->joiners.push_back(this);
    if (!shielded) ctx->pending = this;
    return true;
  }
  // The joined task's exception is rethrown here; an error means the *joiner* was cancelled.
  std::error_code await_resume();
  void interrupt(std::error_code reason) override;
  void wake();
};

}  // namespace detail

class TaskHandle {
 public:
  TaskHandle() = default;
  explicit TaskHandle(std::shared_ptr<detail::SpawnedTask> t) : task_(std::move(t)) {}

  explicit operator bool() const { return static_cast<bool>(task_); }
  bool done() const { return task_ && task_->done; }
  // Requests cancellation: the operation the task waits in completes with Error::cancelled, and so
  // does every later one. The task still decides how to finish; join() waits for that.
  void cancel() {
    if (task_ && !task_->done) task_->context.cancel();
  }
  // co_await handle.join(): waits for the end of the task; rethrows an exception it ended with.
  detail::JoinAwaiter join() const { return detail::JoinAwaiter(task_, false); }
  // co_await handle.finish(): waits for the end of the task even if the waiting task is cancelled
  // meanwhile — for owners that must outlive what they spawned. Rethrows like join().
  detail::JoinAwaiter finish() const { return detail::JoinAwaiter(task_, true); }
  // For an owner that is destroyed while its loop is being destroyed (the loop then frees the
  // frames of unfinished tasks): destroys this task's frame now, while what it refers to in its
  // owner still exists. Does nothing at any other time: a running task is ended with cancel()
  // and finish().
  void destroy_with_loop();
  void rethrow_if_failed() const {
    if (task_ && task_->error) std::rethrow_exception(task_->error);
  }

 private:
  std::shared_ptr<detail::SpawnedTask> task_;
};

}  // namespace muxio
