// StallWatchdog: cancels the transfer it guards when `progress` has not moved for a whole
// period, so that a client that stalls a data connection cannot hold it (and a file descriptor)
// forever. A local of the transfer's task, which it interrupts with a timeout; loop thread only.
#pragma once

#include <cstdint>

#include "muxio/result.hpp"
#include "muxio/task_context.hpp"
#include "muxio/timer.hpp"

namespace muxio::ftpd {

class StallWatchdog {
 public:
  StallWatchdog(EventLoop& loop, TaskContext* ctx, Duration period, const std::uint64_t& progress)
      : ctx_(ctx), period_(period), progress_(progress), timer_(loop, [this] { check(); }) {
    timer_.arm_after(period_);
  }
  ~StallWatchdog() {
    if (fired_) --ctx_->expired_timeouts;
  }
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;

 private:
  void check() {
    if (progress_ != last_) {
      last_ = progress_;
      timer_.arm_after(period_);
      return;
    }
    fired_ = true;
    ++ctx_->expired_timeouts;
    ctx_->interrupt(make_error_code(Error::timed_out));
  }

  TaskContext* ctx_;
  Duration period_;
  const std::uint64_t& progress_;
  std::uint64_t last_ = static_cast<std::uint64_t>(-1);
  bool fired_ = false;
  Timer timer_;
};

}  // namespace muxio::ftpd
