// TimerQueue: ordering, ties, cancellation and re-arming in the middle of the heap, at scale.
#include <random>

#include "test_support.hpp"

namespace muxio {
namespace {

using namespace std::chrono_literals;

TEST(TimerQueue, FiresInDeadlineOrderAndTiesInArmingOrder) {
  EventLoop loop("poll");
  std::vector<int> fired;
  std::vector<std::unique_ptr<Timer>> timers;
  TimePoint base = loop.now();
  const std::vector<std::pair<int, int>> plan = {{30, 0}, {10, 1}, {20, 2}, {10, 3}, {0, 4}};
  for (auto [ms, id] : plan) {
    timers.push_back(std::make_unique<Timer>(loop, [&fired, id = id] { fired.push_back(id); }));
    timers.back()->arm_at(base + std::chrono::milliseconds(ms));
  }
  while (Timer* t = loop.timers().pop_due(base + 1h))
    TimerQueue::fire(t);
  EXPECT_EQ(fired, (std::vector<int>{4, 1, 3, 2, 0}));
}

TEST(TimerQueue, CancelAndRearmKeepTheHeapValid) {
  EventLoop loop("poll");
  std::mt19937 rng(7);
  const int n = 100'000;  // the scale of a server's idle timeouts
  std::vector<std::unique_ptr<Timer>> timers;
  timers.reserve(n);
  TimePoint base = loop.now();
  for (int i = 0; i < n; ++i) {
    timers.push_back(std::make_unique<Timer>(loop));
    timers.back()->arm_at(base + std::chrono::microseconds(rng() % 1'000'000));
  }
  // Cancel a third, re-arm a third (as an idle timeout pushed back would be).
  for (int i = 0; i < n; i += 3)
    timers[i]->cancel();
  for (int i = 1; i < n; i += 3)
    timers[i]->arm_at(base + std::chrono::microseconds(rng() % 1'000'000));
  EXPECT_EQ(loop.timers().size(), static_cast<std::size_t>(n - (n + 2) / 3));
  TimePoint last = base - 1s;
  std::size_t popped = 0;
  while (Timer* t = loop.timers().pop_due(base + 2s)) {
    EXPECT_GE(t->deadline(), last);
    EXPECT_FALSE(t->armed());
    last = t->deadline();
    ++popped;
  }
  EXPECT_EQ(popped, static_cast<std::size_t>(n - (n + 2) / 3));
  EXPECT_TRUE(loop.timers().empty());
}

TEST(TimerQueue, DestroyingAnArmedTimerDisarmsIt) {
  EventLoop loop("poll");
  bool fired = false;
  {
    Timer t(loop, [&] { fired = true; });
    t.arm_after(0ms);
    EXPECT_EQ(loop.timers().size(), 1u);
  }
  EXPECT_TRUE(loop.timers().empty());
  loop.run_once(10ms);
  EXPECT_FALSE(fired);
}

}  // namespace
}  // namespace muxio
