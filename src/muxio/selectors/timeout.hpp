// Converting a Selector timeout to the milliseconds poll(2) and epoll_wait(2) take.
#pragma once

#include <chrono>
#include <climits>

namespace muxio {

// Negative means forever (-1). Rounds up: a timer due in 300 µs must not become a 0 ms timeout,
// which would spin the loop until the deadline passes.
inline int timeout_ms(std::chrono::nanoseconds timeout) {
  if (timeout.count() < 0) return -1;
  auto ms = (timeout.count() + 999'999) / 1'000'000;
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace muxio
