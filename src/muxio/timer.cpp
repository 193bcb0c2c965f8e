#include "muxio/timer.hpp"

#include "muxio/event_loop.hpp"

namespace muxio {

Timer::Timer(EventLoop& loop, std::function<void()> callback)
    : loop_(loop), callback_(std::move(callback)) {}

Timer::~Timer() {
  cancel();
}

void Timer::arm_at(TimePoint deadline) {
  loop_.assert_in_loop_thread("Timer::arm_at");
  cancel();
  loop_.timers().push(this, deadline);
}

// From the real time, not the loop's cached now(): a timer armed late in a long iteration must
// still wait its full delay (never early), at the price of one vDSO clock read.
void Timer::arm_after(Duration delay) {
  arm_at(Clock::now() + delay);
}

void Timer::cancel() {
  if (!armed()) return;
  loop_.assert_in_loop_thread("Timer::cancel");
  loop_.timers().remove(this);
}

bool TimerQueue::earlier(const Timer* a, const Timer* b) {
  if (a->deadline_ != b->deadline_) return a->deadline_ < b->deadline_;
  return a->sequence_ < b->sequence_;
}

void TimerQueue::place(std::size_t i, Timer* t) {
  heap_[i] = t;
  t->heap_index_ = i;
}

void TimerQueue::push(Timer* timer, TimePoint deadline) {
  timer->deadline_ = deadline;
  timer->sequence_ = next_sequence_++;
  heap_.push_back(timer);
  timer->heap_index_ = heap_.size() - 1;
  sift_up(heap_.size() - 1);
}

void TimerQueue::remove(Timer* timer) {
  std::size_t i = timer->heap_index_;
  timer->heap_index_ = Timer::kNotArmed;
  Timer* last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;  // it was the last element
  place(i, last);
  sift_up(i);
  sift_down(last->heap_index_);
}

Timer* TimerQueue::pop_due(TimePoint now) {
  if (heap_.empty() || heap_.front()->deadline_ > now) return nullptr;
  Timer* t = heap_.front();
  remove(t);
  return t;
}

void TimerQueue::fire(Timer* timer) {
  if (timer->callback_) timer->callback_();
}

void TimerQueue::sift_up(std::size_t i) {
  Timer* t = heap_[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (!earlier(t, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, t);
}

void TimerQueue::sift_down(std::size_t i) {
  Timer* t = heap_[i];
  std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && earlier(heap_[child + 1], heap_[child])) ++child;
    if (!earlier(heap_[child], t)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, t);
}

}  // namespace muxio
