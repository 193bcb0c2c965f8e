// Timer: a one-shot deadline that runs a callback on its loop; TimerQueue: the loop's heap of
// armed timers.
//
// Timers are intrusive: the heap stores pointers to Timer objects that their owners hold (in a
// coroutine frame, a session, ...), so arming allocates nothing, and each Timer knows its heap
// slot, so cancel and re-arm are O(log n) with no tombstones left behind. That keeps 100,000
// idle-timeout timers cheap. For an idle timeout that is pushed back on every command, prefer
// re-arming lazily: keep the last-activity time and, when the timer fires early, re-arm it for
// the remainder (libev's advice) — one heap operation per timeout instead of one per command.
//
// Owned by its user; loop thread only. Destroying an armed Timer cancels it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "muxio/clock.hpp"

namespace muxio {

class EventLoop;
class TimerQueue;

class Timer {
 public:
  explicit Timer(EventLoop& loop, std::function<void()> callback = {});
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void set_callback(std::function<void()> callback) { callback_ = std::move(callback); }
  void arm_at(TimePoint deadline);
  void arm_after(Duration delay);
  void cancel();
  bool armed() const { return heap_index_ != kNotArmed; }
  TimePoint deadline() const { return deadline_; }

 private:
  friend class TimerQueue;
  static constexpr std::size_t kNotArmed = static_cast<std::size_t>(-1);

  EventLoop& loop_;
  std::function<void()> callback_;
  TimePoint deadline_{};
  std::uint64_t sequence_ = 0;  // ties on deadline fire in arming order
  std::size_t heap_index_ = kNotArmed;
};

class TimerQueue {
 public:
  void push(Timer* timer, TimePoint deadline);
  void remove(Timer* timer);
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  TimePoint next_deadline() const { return heap_.front()->deadline_; }
  // Disarms the earliest timer if it is due at `now` and returns it, else nullptr.
  Timer* pop_due(TimePoint now);
  // Runs the callback of a timer popped by pop_due.
  static void fire(Timer* timer);

 private:
  static bool earlier(const Timer* a, const Timer* b);
  void place(std::size_t i, Timer* t);
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);

  std::vector<Timer*> heap_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace muxio
