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

Task<int> one() {
  co_return 1;
}

// Awaits that complete at once, a million times in a row (a client pipelining commands, an
// endless line read piece by piece): the stack must not grow, at any optimisation level.
Task<long> many_immediate_awaits(long n) {
  long sum = 0;
  for (long i = 0; i < n; ++i)
    sum += co_await one();
  co_return sum;
}

TEST(Task, ImmediateCompletionsDoNotGrowTheStack) {
  EventLoop loop;
  EXPECT_EQ(loop.run_until_complete(many_immediate_awaits(1'000'000)), 1'000'000);
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
    auto a_joined = co_await a.join();
    EXPECT_FALSE(a_joined);
    auto b_joined = co_await b.join();
    EXPECT_FALSE(b_joined);
    auto c_joined = co_await c.join();
    EXPECT_FALSE(c_joined);
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
    auto joined = co_await h.join();
    EXPECT_FALSE(joined);
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
    auto sent = co_await with_timeout(5s, fast());
    EXPECT_FALSE(sent);
    // After the scope, operations work again.
    auto slept = co_await sleep_for(1ms);
    EXPECT_FALSE(slept);
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
    auto joiner = loop.spawn([](TaskHandle h) -> Task<void> {
      auto joined = co_await h.join();
      EXPECT_EQ(joined, Error::cancelled);
    }(w));
    co_await sleep_for(1ms);
    joiner.cancel();
    auto joiner_joined = co_await joiner.join();
    EXPECT_FALSE(joiner_joined);
    EXPECT_FALSE(w.done());
    auto joined = co_await w.join();
    EXPECT_FALSE(joined);
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

// A task spawned by another may refer to what its spawner owns (a transfer to its session's reply
// mutex). A loop destroyed with both suspended must destroy the spawned one first: here each child
// holds its parent's mutex, and the guard in its frame unlocks that mutex as it goes (ASan reports
// a use after free if a parent went first; with 64 pairs, some order of the old hash map did).
TEST(Task, DestroyingALoopDestroysSpawnedTasksBeforeTheirSpawners) {
  auto loop = std::make_unique<EventLoop>();
  struct Owner {
    AsyncMutex mutex;
    TaskHandle child;
  };
  auto child = [](Owner& owner) -> Task<void> {
    auto guard = co_await owner.mutex.lock();
    (void)co_await sleep_for(1h);
  };
  auto parent = [&](EventLoop& l) -> Task<void> {
    Owner owner;
    owner.child = l.spawn(child(owner));
    (void)co_await sleep_for(1h);
  };
  for (int i = 0; i < 64; ++i)
    loop->spawn(parent(*loop));
  for (int i = 0; i < 3; ++i)
    loop->run_once(1ms);
  EXPECT_EQ(loop->task_count(), 128u);
  loop.reset();
}

// destroy_with_loop() is for owners destroyed with their loop: at any other time it leaves the
// task alone (ending a task that runs takes cancel() and finish()).
TEST(Task, DestroyWithLoopDoesNothingWhileTheLoopLives) {
  EventLoop loop;
  bool finished = false;
  auto worker = [&]() -> Task<void> {
    (void)co_await sleep_for(5ms);
    finished = true;
  };
  auto main = [&]() -> Task<void> {
    auto h = loop.spawn(worker());
    h.destroy_with_loop();
    (void)co_await h.finish();
  };
  loop.run_until_complete(main());
  EXPECT_TRUE(finished);
}

TEST(Task, ShieldedWorkRunsToItsEndDespiteCancellation) {
  EventLoop loop;
  std::error_code inside;
  std::error_code after;
  auto cleanup = []() -> Task<std::error_code> { co_return co_await sleep_for(20ms); };
  auto worker = [&]() -> Task<void> {
    (void)co_await sleep_for(10s);          // cancelled here
    inside = co_await shielded(cleanup());  // still sleeps its 20 ms
    after = co_await sleep_for(1ms);        // and now the cancellation applies again
  };
  auto main = [&]() -> Task<void> {
    auto h = loop.spawn(worker());
    co_await sleep_for(2ms);
    h.cancel();
    (void)co_await h.join();
  };
  loop.run_until_complete(main());
  EXPECT_FALSE(inside);
  EXPECT_EQ(after, Error::cancelled);
}

TEST(Task, FinishWaitsEvenWhenTheWaiterIsCancelled) {
  EventLoop loop;
  bool child_done = false;
  bool waited = false;
  auto nap = []() -> Task<std::error_code> { co_return co_await sleep_for(20ms); };
  auto child = [&]() -> Task<void> {
    (void)co_await sleep_for(1ms);
    (void)co_await nap();
    child_done = true;
  };
  auto owner = [&]() -> Task<void> {
    auto c = loop.spawn(child());
    (void)co_await sleep_for(10s);  // cancelled
    (void)co_await c.finish();      // must not return before the child ended
    waited = child_done;
  };
  auto main = [&]() -> Task<void> {
    auto o = loop.spawn(owner());
    co_await sleep_for(2ms);
    o.cancel();
    (void)co_await o.join();
  };
  loop.run_until_complete(main());
  EXPECT_TRUE(waited);
}

TEST(Task, CancelAllEndsEveryTask) {
  EventLoop loop;
  int ended = 0;
  auto sleeper = [&]() -> Task<void> {
    (void)co_await sleep_for(1h);
    ++ended;
  };
  for (int i = 0; i < 5; ++i)
    loop.spawn(sleeper());
  loop.run_once(0ms);
  loop.cancel_all();
  for (int i = 0; i < 10 && loop.task_count() > 0; ++i)
    loop.run_once(10ms);
  EXPECT_EQ(ended, 5);
  EXPECT_EQ(loop.task_count(), 0u);
}

TEST(AsyncMutex, SerialisesTasksInArrivalOrder) {
  EventLoop loop;
  AsyncMutex mutex;
  std::vector<std::string> log;
  auto user = [&](std::string name) -> Task<void> {
    auto guard = co_await mutex.lock();
    EXPECT_TRUE(guard);
    log.push_back(name + "+");
    (void)co_await sleep_for(2ms);  // holds the lock across a suspension
    log.push_back(name + "-");
  };
  auto main = [&]() -> Task<void> {
    auto a = loop.spawn(user("a"));
    auto b = loop.spawn(user("b"));
    auto c = loop.spawn(user("c"));
    (void)co_await a.join();
    (void)co_await b.join();
    (void)co_await c.join();
  };
  loop.run_until_complete(main());
  EXPECT_EQ(log, (std::vector<std::string>{"a+", "a-", "b+", "b-", "c+", "c-"}));
  EXPECT_FALSE(mutex.locked());
}

TEST(AsyncMutex, ACancelledWaiterLeavesTheQueue) {
  EventLoop loop;
  AsyncMutex mutex;
  bool third_got_it = false;
  auto holder = [&]() -> Task<void> {
    auto g = co_await mutex.lock();
    (void)co_await sleep_for(10ms);
  };
  auto waiter = [&]() -> Task<bool> {
    auto g = co_await mutex.lock();
    co_return static_cast<bool>(g);
  };
  auto main = [&]() -> Task<void> {
    auto h = loop.spawn(holder());
    co_await sleep_for(1ms);
    bool got = true;
    auto w = loop.spawn(
        [](auto& waiter, bool& out) -> Task<void> { out = co_await waiter(); }(waiter, got));
    auto third = loop.spawn([](auto& waiter, bool& out) -> Task<void> { out = co_await waiter(); }(
                                                            waiter, third_got_it));
    co_await sleep_for(1ms);
    w.cancel();
    (void)co_await w.join();
    EXPECT_FALSE(got) << "a cancelled waiter gets an empty guard";
    (void)co_await h.join();
    (void)co_await third.join();
  };
  loop.run_until_complete(main());
  EXPECT_TRUE(third_got_it);
  EXPECT_FALSE(mutex.locked());
}

}  // namespace
}  // namespace muxio
