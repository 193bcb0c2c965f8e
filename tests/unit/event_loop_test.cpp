// EventLoop: the iteration contract, call_soon / call_later, cross-thread wake-up, signals, the
// offload pool and raw fd watchers.
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "test_support.hpp"

namespace muxio {
namespace {

using namespace std::chrono_literals;

TEST(EventLoop, CallSoonRunsInOrderAndNewWorkWaitsForTheNextIteration) {
  EventLoop loop;
  std::vector<int> order;
  loop.call_soon([&] {
    order.push_back(1);
    loop.call_soon([&] { order.push_back(3); });
  });
  loop.call_soon([&] { order.push_back(2); });
  loop.run_once(0ms);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  loop.run_once(0ms);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, CallLaterOrderAndCancellation) {
  EventLoop loop;
  std::vector<int> order;
  loop.call_later(30ms, [&] { order.push_back(3); });
  loop.call_later(10ms, [&] { order.push_back(1); });
  TimerId cancelled = loop.call_later(20ms, [&] { order.push_back(99); });
  loop.call_later(20ms, [&] { order.push_back(2); });
  loop.call_later(40ms, [&] { loop.stop(); });
  EXPECT_TRUE(loop.cancel_timer(cancelled));
  EXPECT_FALSE(loop.cancel_timer(cancelled));
  auto start = Clock::now();
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_GE(Clock::now() - start, 40ms) << "timers must never fire early";
}

TEST(EventLoop, CallSoonThreadsafeWakesABlockedLoop) {
  EventLoop loop;
  std::atomic<int> sum{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) {
        loop.call_soon_threadsafe([&] {
          if (sum.fetch_add(1) + 1 == 1000) loop.stop();
        });
      }
    });
  }
  loop.run();  // blocks in select with no timer: only the eventfd can wake it
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(sum.load(), 1000);
}

TEST(EventLoop, StopFromAnotherThread) {
  EventLoop loop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(20ms);
    loop.stop();
  });
  loop.run();
  stopper.join();
  SUCCEED();
}

TEST(EventLoop, SignalHandlersRunAsOrdinaryCallbacks) {
  EventLoop loop;
  int usr1 = 0;
  int usr2 = 0;
  ASSERT_FALSE(loop.add_signal_handler(SIGUSR1, [&] { ++usr1; }));
  ASSERT_FALSE(loop.add_signal_handler(SIGUSR2, [&] {
    ++usr2;
    loop.stop();
  }));
  std::thread sender([] {
    std::this_thread::sleep_for(10ms);
    ::kill(::getpid(), SIGUSR1);
    std::this_thread::sleep_for(10ms);
    ::kill(::getpid(), SIGUSR2);
  });
  loop.run();
  sender.join();
  EXPECT_EQ(usr1, 1);
  EXPECT_EQ(usr2, 1);
  loop.remove_signal_handler(SIGUSR1);
  loop.remove_signal_handler(SIGUSR2);
  EXPECT_EQ(loop.add_signal_handler(0, [] {}), std::errc::invalid_argument);
}

TEST(EventLoop, OffloadRunsOffTheLoopAndResumesOnIt) {
  EventLoop loop;
  auto main_thread = std::this_thread::get_id();
  auto task = [&]() -> Task<std::thread::id> {
    auto worker = co_await offload([] { return std::this_thread::get_id(); });
    EXPECT_EQ(std::this_thread::get_id(), main_thread) << "resumed on the loop's thread";
    co_return worker;
  };
  auto worker = loop.run_until_complete(task());
  EXPECT_NE(worker, main_thread);
}

TEST(EventLoop, OffloadPropagatesExceptions) {
  EventLoop loop;
  auto task = []() -> Task<int> {
    co_return co_await offload([]() -> int { throw std::runtime_error("disk on fire"); });
  };
  EXPECT_THROW(loop.run_until_complete(task()), std::runtime_error);
}

TEST(EventLoop, ManyOffloadsInParallelKeepTheLoopResponsive) {
  EventLoop loop;
  int ticks = 0;
  Timer tick(loop);
  tick.set_callback([&] {
    ++ticks;
    tick.arm_after(1ms);
  });
  tick.arm_after(1ms);
  auto one = []() -> Task<int> {
    co_return co_await offload([] {
      std::this_thread::sleep_for(30ms);  // a blocking call: must not block the loop
      return 1;
    });
  };
  auto many = [&]() -> Task<int> {
    std::vector<TaskHandle> handles;
    int total = 0;
    for (int i = 0; i < 8; ++i) {
      // Captureless: a temporary lambda's captures would die before its coroutine runs.
      handles.push_back(loop.spawn(
          [](int& sum, auto work) -> Task<void> { sum += co_await work(); }(total, one)));
    }
    for (auto& h : handles)
      (void)co_await h.join();
    co_return total;
  };
  EXPECT_EQ(loop.run_until_complete(many()), 8);
  EXPECT_GT(ticks, 5) << "the loop kept running timers while workers blocked";
}

Task<void> do_nothing() {
  co_return;
}

Task<void> throw_runtime_error() {
  throw std::runtime_error("boom");
  co_return;
}

TEST(EventLoop, AnExceptionNobodyCanObserveGoesToTheLogHook) {
  std::vector<std::string> logged;
  set_log_hook([&](LogLevel level, std::string_view message) {
    if (level == LogLevel::error) logged.emplace_back(message);
  });
  {
    EventLoop loop;
    loop.spawn(throw_runtime_error());  // the handle is dropped at once: nobody can join it
    for (int i = 0; i < 10 && loop.task_count() > 0; ++i)
      loop.run_once(0ms);
  }
  set_log_hook({});
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0], "task ended with an exception: boom");
}

// The loop belongs to the thread that last ran it; the loop-thread-only calls made from any other
// thread abort (in builds with the check: no NDEBUG, or MUXIO_CHECK_THREADS).
TEST(EventLoopDeathTest, LoopThreadOnlyCallsFromAnotherThreadAbort) {
  if (!LoopThread::kChecked) GTEST_SKIP() << "built with NDEBUG and without MUXIO_CHECK_THREADS";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto run_elsewhere = [](EventLoop& loop) {
    std::thread runner([&] { loop.run_once(0ms); });
    runner.join();
  };
  EXPECT_DEATH(
      {
        EventLoop loop;
        run_elsewhere(loop);
        loop.call_soon([] {});
      },
      "EventLoop::call_soon called from another thread");
  EXPECT_DEATH(
      {
        EventLoop loop;
        Timer timer(loop);
        run_elsewhere(loop);
        timer.arm_after(1s);
      },
      "Timer::arm_at called from another thread");
  EXPECT_DEATH(
      {
        EventLoop loop;
        run_elsewhere(loop);
        loop.spawn(do_nothing());
      },
      "EventLoop::spawn called from another thread");
}

TEST(EventLoop, ALoopBuiltOnOneThreadRunsOnAnotherAndIsDestroyedOnTheFirst) {
  EventLoop loop;
  int ran = 0;
  Timer timer(loop, [&] { ++ran; });
  timer.arm_after(0ms);
  std::thread runner([&] {
    for (int i = 0; i < 100 && ran == 0; ++i)
      loop.run_once(10ms);
  });
  runner.join();
  EXPECT_EQ(ran, 1);
  // After the runner joined, this thread may take the loop back by running it.
  loop.run_once(0ms);
  loop.call_soon([&] { ++ran; });
  loop.run_once(0ms);
  EXPECT_EQ(ran, 2);
}

class CountingWatcher final : public IoWatcher {
 public:
  void on_events(Events e) override {
    ++calls;
    last = e;
    if (on_call) on_call();
  }
  int calls = 0;
  Events last = 0;
  std::function<void()> on_call;
};

TEST(EventLoop, ZeroDelayTimerThatRearmsItselfDoesNotStarveIo) {
  EventLoop loop;
  int ticks = 0;
  Timer t(loop);
  t.set_callback([&] {
    ++ticks;
    t.arm_after(0ms);
  });
  t.arm_after(0ms);
  test::SocketPair p;
  CountingWatcher w;
  ASSERT_FALSE(loop.selector().register_fd(p.fd[0], kReadable, static_cast<IoWatcher*>(&w)));
  ASSERT_EQ(::write(p.fd[1], "x", 1), 1);
  for (int i = 0; i < 100 && w.calls == 0; ++i)
    loop.run_once();
  EXPECT_GT(w.calls, 0) << "IO was starved by a self-rearming timer";
  EXPECT_GT(ticks, 0);
  (void)loop.selector().unregister(p.fd[0]);
}

class EventLoopBackends : public ::testing::TestWithParam<std::string> {};

TEST_P(EventLoopBackends, UnregisteringAnotherWatcherInsideACallbackSkipsItsEvent) {
  EventLoop loop(GetParam());
  test::SocketPair a;
  test::SocketPair b;
  CountingWatcher wa;
  CountingWatcher wb;
  ASSERT_FALSE(loop.selector().register_fd(a.fd[0], kReadable, static_cast<IoWatcher*>(&wa)));
  ASSERT_FALSE(loop.selector().register_fd(b.fd[0], kReadable, static_cast<IoWatcher*>(&wb)));
  wa.on_call = [&] { (void)loop.selector().unregister(b.fd[0]); };
  wb.on_call = [&] { (void)loop.selector().unregister(a.fd[0]); };
  ASSERT_EQ(::write(a.fd[1], "x", 1), 1);
  ASSERT_EQ(::write(b.fd[1], "x", 1), 1);
  loop.run_once(1s);
  EXPECT_EQ(wa.calls + wb.calls, 1) << "the second event of the batch belonged to a removed key";
}

TEST_P(EventLoopBackends, TimersAndIoInterleave) {
  EventLoop loop(GetParam());
  test::SocketPair p;
  CountingWatcher w;
  ASSERT_FALSE(loop.selector().register_fd(p.fd[0], kReadable, static_cast<IoWatcher*>(&w)));
  loop.call_later(10ms, [&] { ASSERT_EQ(::write(p.fd[1], "x", 1), 1); });
  w.on_call = [&] { loop.stop(); };
  loop.run();
  EXPECT_EQ(w.calls, 1);
  EXPECT_TRUE(w.last & kReadable);
  (void)loop.selector().unregister(p.fd[0]);
}

INSTANTIATE_TEST_SUITE_P(Backends, EventLoopBackends, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace muxio
