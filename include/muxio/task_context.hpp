// TaskContext: what every coroutine of one spawned task shares — its loop, whether it has been
// cancelled, and the one operation it is suspended in.
//
// A spawned task is a chain of coroutines (a Task awaiting a Task ...) of which only the
// innermost is ever suspended in an operation; so a task is cancelled by interrupting that one
// operation, which then completes with Error::cancelled, and every later operation of the task
// fails at once with the same error until the task returns. Timeout scopes (with_timeout) work the
// same way with Error::timed_out. Loop thread only.
#pragma once

#include <system_error>

#include "muxio/result.hpp"

namespace muxio {

class EventLoop;

// An operation that can be interrupted while a task is suspended in it.
class Cancellable {
 public:
  // Stops waiting, completes the operation with `reason` and schedules its coroutine. Called at
  // most once, only while the operation is registered as its task's pending operation.
  virtual void interrupt(std::error_code reason) = 0;

 protected:
  ~Cancellable() = default;
};

struct TaskContext {
  EventLoop* loop = nullptr;
  bool cancel_requested = false;
  int expired_timeouts = 0;        // active with_timeout scopes whose deadline passed
  int shield_depth = 0;            // inside shielded(): cancellation waits until it is left
  Cancellable* pending = nullptr;  // the operation the task is suspended in, if any

  // Why operations of this task must fail now, or no error.
  std::error_code stop_reason() const {
    if (shield_depth > 0) return {};
    if (cancel_requested) return make_error_code(Error::cancelled);
    if (expired_timeouts > 0) return make_error_code(Error::timed_out);
    return {};
  }

  // Interrupts the pending operation, if any, with `reason` (not while shielded).
  void interrupt(std::error_code reason) {
    if (shield_depth > 0) return;
    if (Cancellable* op = pending) {
      pending = nullptr;
      op->interrupt(reason);
    }
  }

  void cancel() {
    cancel_requested = true;
    interrupt(make_error_code(Error::cancelled));
  }
};

}  // namespace muxio
