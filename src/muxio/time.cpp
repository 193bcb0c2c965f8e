#include "muxio/time.hpp"

#include <cerrno>

namespace muxio {

bool SleepAwaiter::start(TaskContext* ctx, std::coroutine_handle<> h) {
  ctx_ = ctx;
  ctx_->loop->assert_in_loop_thread("sleep_for");
  if ((result_ = ctx_->stop_reason())) return false;
  waiting_ = h;
  ctx_->pending = this;
  Proactor* proactor = ctx_->loop->selector().backend().proactor();
  if (proactor != nullptr && delay_ > Duration::zero()) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(delay_).count();
    ring_time_ = KernelDuration{ns / 1'000'000'000, ns % 1'000'000'000};
    proactor_ = proactor;
    proactor_->submit(this);
    return true;
  }
  timer_.emplace(*ctx_->loop, [this] { wake({}); });
  timer_->arm_after(delay_);
  return true;
}

CompletionRequest SleepAwaiter::request() {
  return CompletionRequest::timeout(&ring_time_);
}

// -ETIME: the time passed, the normal end of a sleep. Anything else ends it early: a cancel
// (the interruption's reason), or an error of the ring.
void SleepAwaiter::on_completion(int result) {
  if (interrupted_) {
    wake(interrupted_);  // as on the timer path, an interruption wins over a deadline it raced
  } else if (result == -ETIME) {
    wake({});
  } else {
    wake(result < 0 ? errno_code(-result) : std::error_code{});
  }
}

void SleepAwaiter::interrupt(std::error_code reason) {
  if (proactor_ != nullptr) {
    // The ring still owns the sleep: ask it to end; the coroutine resumes on its completion.
    if (!interrupted_) {
      interrupted_ = reason;
      proactor_->cancel(this);
    }
    return;
  }
  timer_->cancel();
  wake(reason);
}

void SleepAwaiter::wake(std::error_code reason) {
  result_ = reason;
  if (ctx_->pending == this) ctx_->pending = nullptr;
  ctx_->loop->resume_soon(waiting_);
}

}  // namespace muxio
