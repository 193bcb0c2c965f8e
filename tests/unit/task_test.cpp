// Tasks: awaiting, results and exceptions, spawn and join, cancellation, timeouts, and the
// destruction of a loop with tasks still suspended (ASan proves nothing leaks).
#include "test_support.hpp"

namespace muxio {
namespace {

using namespace std::chrono_literals;

Task<int> add(int a, int b) {
  co_return a + b;
}

Task<int> nested(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await nested(depth - 1);
}

TEST(Task, AwaitReturnsValuesThroughDeepChains) {
  EventLoop loop;
  EXPECT_EQ(loop.run_until_complete(add(2, 3)), 5);
  EXPECT_EQ(loop.run_until_complete(nested(2000)), 2000);
}

TEST(Task, ExceptionsPropagateToTheAwaiter) {
  EventLoop loop;
  auto thrower = []() -> Task<int> {
    throw std::logic_error("bad");
    co_return 0;
  };
  auto catcher = [&]() -> Task<std::string> {
    try {
      co_await thrower();
    } catch (const std::logic_error& e) {
      co_return e.what();
    }
    co_return "not thrown";
  };
  EXPECT_EQ(loop.run_until_complete(catcher()), "bad");
}

TEST(Task, SpawnedTasksRunConcurrentlyAndJoin) {
  EventLoop loop;
  std::vector<int> order;
  auto worker = [&](int id, Duration d) -> Task<void> {
    co_await sleep_for(d);
    order.push_back(id);
  };
  auto main = [&]() -> Task<void> {
    auto a = loop.spawn(worker(1, 30ms));
    auto b = loop.spawn(worker(2, 10ms));
    auto c = loop.spawn(worker(3, 20ms));
    EXPECT_EQ(loop.task_count(), 4u);
    EXPECT_FALSE(co_await a.join());
    EXPECT_FALSE(co_await b.join());
    EXPECT_FALSE(co_await c.join());
    EXPECT_TRUE(a.done());
  };
  loop.run_until_complete(main());
  EXPECT_EQ(order, (std::vector<int>{2, 3, 1}));
  EXPECT_EQ(loop.task_count(), 0u);
}

TEST(Task, CancellingASleepingTaskCompletesTheSleepWithAnError) {
  EventLoop loop;
  std::error_code first;
  std::error_code second;
  auto sleeper = [&]() -> Task<void> {
    first = co_await sleep_for(10s);
    second = co_await sleep_for(10s);  // every later operation fails at once too
  };
  auto main = [&]() -> Task<void> {
    auto h = loop.spawn(sleeper());
    co_await sleep_for(5ms);
    h.cancel();
    EXPECT_FALSE(co_await h.join());
  };
  auto start = Clock::now();
  loop.run_until_complete(main());
  EXPECT_EQ(first, Error::cancelled);
  EXPECT_EQ(second, Error::cancelled);
  EXPECT_TRUE(first == std::errc::operation_canceled);
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST(Task, JoinRethrowsTheTaskException) {
  EventLoop loop;
  auto failing = []() -> Task<void> {
    co_await sleep_for(1ms);
    throw std::runtime_error("boom");
  };
  auto main = [&]() -> Task<bool> {
    auto h = loop.spawn(failing());
    try {
      (void)co_await h.join();
    } catch (const std::runtime_error&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(loop.run_until_complete(main()));
}

TEST(Task, ADetachedTaskExceptionDoesNotCrossTheLoop) {
  EventLoop loop;
  loop.spawn([]() -> Task<void> {
    throw std::runtime_error("nobody listens");
    co_return;
  }());
  bool later_ran = false;
  loop.call_later(5ms, [&] {
    later_ran = true;
    loop.stop();
  });
  EXPECT_NO_THROW(loop.run());
  EXPECT_TRUE(later_ran);
}

TEST(Task, WithTimeoutExpires) {
  EventLoop loop;
  auto slow = []() -> Task<std::error_code> { co_return co_await sleep_for(10s); };
  auto fast = []() -> Task<std::error_code> { co_return co_await sleep_for(1ms); };
  auto main = [&]() -> Task<void> {
    auto start = Clock::now();
    std::error_code ec = co_await with_timeout(20ms, slow());
    EXPECT_EQ(ec, Error::timed_out);
    EXPECT_GE(Clock::now() - start, 20ms);
    EXPECT_LT(Clock::now() - start, 5s);
    EXPECT_FALSE(co_await with_timeout(5s, fast()));
    // After the scope, operations work again.
    EXPECT_FALSE(co_await sleep_for(1ms));
  };
  loop.run_until_complete(main());
}

TEST(Task, NestedTimeoutsOnlyTheInnerExpires) {
  EventLoop loop;
  auto inner = []() -> Task<std::error_code> { co_return co_await sleep_for(10s); };
  auto outer = [&]() -> Task<std::error_code> {
    std::error_code ec = co_await with_timeout(10ms, inner());
    EXPECT_EQ(ec, Error::timed_out);
    co_return co_await sleep_for(5ms);  // the outer scope (5 s) is still fine
  };
  auto main = [&]() -> Task<std::error_code> { co_return co_await with_timeout(5s, outer()); };
  EXPECT_FALSE(loop.run_until_complete(main()));
}

TEST(Task, CancellingAJoinerLeavesTheJoinedTaskRunning) {
  EventLoop loop;
  bool worker_finished = false;
  auto worker = [&]() -> Task<void> {
    co_await sleep_for(20ms);
    worker_finished = true;
  };
  auto main = [&]() -> Task<void> {
    auto w = loop.spawn(worker());
    auto joiner = loop.spawn(
        [](TaskHandle h) -> Task<void> { EXPECT_EQ(co_await h.join(), Error::cancelled); }(w));
    co_await sleep_for(1ms);
    joiner.cancel();
    EXPECT_FALSE(co_await joiner.join());
    EXPECT_FALSE(w.done());
    EXPECT_FALSE(co_await w.join());
  };
  loop.run_until_complete(main());
  EXPECT_TRUE(worker_finished);
}

TEST(Task, DestroyingALoopDestroysItsSuspendedTasks) {
  int destroyed = 0;
  struct Guard {
    int* counter;
    ~Guard() { ++*counter; }
  };
  {
    EventLoop loop;
    test::SocketPair p;
    auto reader = [&](int fd) -> Task<void> {
      Guard g{&destroyed};
      TcpStream s(loop, fd);  // a socketpair end behaves as a stream here
      std::array<std::byte, 16> buf;
      (void)co_await s.recv(buf);  // never completes
    };
    auto sleeper = [&]() -> Task<void> {
      Guard g{&destroyed};
      co_await sleep_for(1h);
    };
    loop.spawn(reader(p.release(0)));
    loop.spawn(sleeper());
    for (int i = 0; i < 3; ++i)
      loop.run_once(1ms);
    EXPECT_EQ(loop.task_count(), 2u);
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 2);
}

}  // namespace
}  // namespace muxio
