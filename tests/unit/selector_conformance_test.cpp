// The conformance suite every Selector backend must pass: the behaviour of Python's selectors,
// plus the special problems (EINTR, closed descriptors, FD_SETSIZE, edge triggering).
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "test_support.hpp"

namespace muxio {
namespace {

using namespace std::chrono_literals;
using test::SocketPair;

class SelectorConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto s = make_selector(GetParam());
    ASSERT_TRUE(s.ok()) << s.error().message();
    sel = std::move(*s);
  }

  // Events for fd in one select() call, or 0 if fd was not reported.
  Events ready_mask(int fd, std::chrono::nanoseconds timeout = 200ms) {
    auto events = sel->select(timeout);
    EXPECT_TRUE(events.ok()) << events.error().message();
    if (!events) return 0;
    for (const auto& ev : *events) {
      if (ev.key.fd == fd) return ev.mask;
    }
    return 0;
  }

  bool edge() const { return sel->edge_triggered(); }

  std::unique_ptr<Selector> sel;
};

TEST_P(SelectorConformance, ReportsReadableWithItsData) {
  SocketPair p;
  int token = 42;
  ASSERT_FALSE(sel->register_fd(p.fd[0], kReadable, &token));
  EXPECT_EQ(ready_mask(p.fd[0], 0ms), 0u) << "nothing written yet";
  ASSERT_EQ(::write(p.fd[1], "x", 1), 1);
  auto events = sel->select(1s);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].key.fd, p.fd[0]);
  EXPECT_EQ((*events)[0].key.data, &token);
  EXPECT_TRUE((*events)[0].mask & kReadable);
}

TEST_P(SelectorConformance, ReportsWritable) {
  SocketPair p;
  ASSERT_FALSE(sel->register_fd(p.fd[0], kWritable));
  EXPECT_EQ(ready_mask(p.fd[0], 1s) & kWritable, kWritable);
}

TEST_P(SelectorConformance, OnlyEventsOfInterestAreReported) {
  SocketPair p;
  ASSERT_EQ(::write(p.fd[1], "x", 1), 1);
  ASSERT_FALSE(sel->register_fd(p.fd[0], kWritable));
  EXPECT_EQ(ready_mask(p.fd[0], 1s) & kReadable, 0u);
}

TEST_P(SelectorConformance, PeerCloseIsReadableAndReadsEndOfFile) {
  SocketPair p;
  ASSERT_FALSE(sel->register_fd(p.fd[0], kReadable));
  p.close(1);
  Events m = ready_mask(p.fd[0], 1s);
  EXPECT_TRUE(m & kReadable) << events_to_string(m);
  char c;
  EXPECT_EQ(::read(p.fd[0], &c, 1), 0);
}

TEST_P(SelectorConformance, FailedConnectIsReportedAndSoErrorTellsWhy) {
  // Find a closed port: bind, read the port, close.
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(probe);

  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ASSERT_TRUE(rc == 0 || errno == EINPROGRESS || errno == ECONNREFUSED);
  ASSERT_FALSE(sel->register_fd(fd, kWritable));
  Events m = ready_mask(fd, 1s);
  EXPECT_TRUE(m & (kWritable | kError)) << events_to_string(m);
  int err = 0;
  len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  EXPECT_EQ(err, ECONNREFUSED);
  EXPECT_FALSE(sel->unregister(fd));
  ::close(fd);
}

TEST_P(SelectorConformance, ModifyChangesEventsAndData) {
  SocketPair p;
  int a = 1;
  int b = 2;
  ASSERT_EQ(::write(p.fd[1], "x", 1), 1);
  ASSERT_FALSE(sel->register_fd(p.fd[0], kWritable, &a));
  ASSERT_FALSE(sel->modify(p.fd[0], kReadable, &b));
  auto events = sel->select(1s);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].mask & (kReadable | kWritable), kReadable);
  EXPECT_EQ((*events)[0].key.data, &b);
  EXPECT_EQ(sel->get_key(p.fd[0])->events, kReadable);
}

TEST_P(SelectorConformance, RegistrationErrorsAreValues) {
  SocketPair p;
  EXPECT_EQ(sel->register_fd(p.fd[0], 0), std::errc::invalid_argument);
  ASSERT_FALSE(sel->register_fd(p.fd[0], kReadable));
  EXPECT_EQ(sel->register_fd(p.fd[0], kReadable), std::errc::file_exists);
  EXPECT_EQ(sel->modify(p.fd[1], kReadable, nullptr), std::errc::no_such_file_or_directory);
  EXPECT_EQ(sel->unregister(p.fd[1]), std::errc::no_such_file_or_directory);
  EXPECT_EQ(sel->size(), 1u);
  EXPECT_FALSE(sel->unregister(p.fd[0]));
  EXPECT_EQ(sel->size(), 0u);
  EXPECT_EQ(sel->get_key(p.fd[0]), nullptr);
}

TEST_P(SelectorConformance, UnregisteredFdIsNotReported) {
  SocketPair p;
  ASSERT_EQ(::write(p.fd[1], "x", 1), 1);
  ASSERT_FALSE(sel->register_fd(p.fd[0], kReadable));
  ASSERT_FALSE(sel->unregister(p.fd[0]));
  EXPECT_EQ(ready_mask(p.fd[0], 20ms), 0u);
}

TEST_P(SelectorConformance, TimeoutIsNeverEarly) {
  SocketPair p;
  ASSERT_FALSE(sel->register_fd(p.fd[0], kReadable));
  for (auto timeout : {1ms, 15ms, 50ms}) {
    auto start = std::chrono::steady_clock::now();
    auto events = sel->select(timeout);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(events.ok());
    EXPECT_TRUE(events->empty());
    EXPECT_GE(took, timeout);
    EXPECT_LT(took, timeout + 2s) << "wildly late";  // loose: shared CI machines
  }
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(sel->select(0ms).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "a zero timeout must not block";
}

extern "C" void ignore_signal(int) {}

TEST_P(SelectorConformance, SignalsNeitherFailNorShortenAWait) {
  SocketPair p;
  ASSERT_FALSE(sel->register_fd(p.fd[0], kReadable));
  struct sigaction sa {};
  struct sigaction old {};
  sa.sa_handler = ignore_signal;  // no SA_RESTART: the wait fails with EINTR underneath
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
  pthread_t self = pthread_self();
  std::atomic<bool> done{false};
  std::atomic<int> sent{0};
  std::thread killer([&] {
    std::this_thread::sleep_for(20ms);
    while (!done.load()) {
      pthread_kill(self, SIGUSR1);
      ++sent;
      std::this_thread::sleep_for(20ms);
    }
  });
  auto start = std::chrono::steady_clock::now();
  auto events = sel->select(300ms);
  auto took = std::chrono::steady_clock::now() - start;
  done = true;
  killer.join();
  ::sigaction(SIGUSR1, &old, nullptr);
  ASSERT_TRUE(events.ok()) << events.error().message();
  EXPECT_TRUE(events->empty());
  EXPECT_GT(sent.load(), 2) << "signals did arrive during the wait";
  EXPECT_GE(took, 300ms) << "EINTR is retried with the time left";
  // The selector still works afterwards.
  ASSERT_EQ(::write(p.fd[1], "x", 1), 1);
  EXPECT_TRUE(ready_mask(p.fd[0], 1s) & kReadable);
}

TEST_P(SelectorConformance, ClosedFdStillRegisteredDoesNotBreakTheSelector) {
  SocketPair p;
  SocketPair q;
  ASSERT_FALSE(sel->register_fd(p.fd[0], kReadable));
  ASSERT_FALSE(sel->register_fd(q.fd[0], kReadable));
  int closed = p.fd[0];
  p.close(0);
  ASSERT_EQ(::write(q.fd[1], "x", 1), 1);
  auto events = sel->select(1s);
  ASSERT_TRUE(events.ok()) << events.error().message();
  bool saw_live = false;
  for (const auto& ev : *events) {
    if (ev.key.fd == q.fd[0]) saw_live = true;
    if (ev.key.fd == closed) {
      EXPECT_TRUE(ev.mask & kError) << events_to_string(ev.mask);
    }
  }
  // select() fails as a whole on a closed fd; the backend reports the culprit instead, and the
  // live descriptor is seen at the latest on the next call, once the closed one is gone.
  EXPECT_FALSE(sel->unregister(closed)) << "unregister after close must succeed";
  if (!saw_live) {
    EXPECT_TRUE(ready_mask(q.fd[0], 1s) & kReadable);
  }
}

TEST_P(SelectorConformance, EdgeTriggeringReportsOncePerChange) {
  SocketPair p;
  ASSERT_FALSE(sel->register_fd(p.fd[0], kReadable));
  ASSERT_EQ(::write(p.fd[1], "ab", 2), 2);
  EXPECT_TRUE(ready_mask(p.fd[0], 1s) & kReadable);
  // Nothing read: a level-triggered backend reports again, an edge-triggered one does not.
  Events again = ready_mask(p.fd[0], 20ms);
  if (edge()) {
    EXPECT_EQ(again, 0u);
    ASSERT_EQ(::write(p.fd[1], "c", 1), 1);  // a new edge
    EXPECT_TRUE(ready_mask(p.fd[0], 1s) & kReadable);
  } else {
    EXPECT_TRUE(again & kReadable);
  }
}

TEST_P(SelectorConformance, ManyDescriptors) {
  std::vector<std::unique_ptr<SocketPair>> pairs;
  for (int i = 0; i < 200; ++i)
    pairs.push_back(std::make_unique<SocketPair>());
  for (auto& p : pairs)
    ASSERT_FALSE(sel->register_fd(p->fd[0], kReadable));
  for (std::size_t i = 0; i < pairs.size(); i += 3)
    ASSERT_EQ(::write(pairs[i]->fd[1], "x", 1), 1);
  auto events = sel->select(1s);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), (pairs.size() + 2) / 3);
}

TEST_P(SelectorConformance, DescriptorsAboveFdSetsizeOnlyOnSelectAreRefused) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur <= FD_SETSIZE + 10) GTEST_SKIP() << "RLIMIT_NOFILE too low";
  SocketPair p;
  int high = ::fcntl(p.fd[0], F_DUPFD_CLOEXEC, FD_SETSIZE + 5);
  ASSERT_GE(high, FD_SETSIZE);
  auto ec = sel->register_fd(high, kReadable);
  if (GetParam() == "select") {
    EXPECT_EQ(ec, Error::fd_too_large_for_select) << ec.message();
    EXPECT_EQ(sel->get_key(high), nullptr);
  } else {
    EXPECT_FALSE(ec) << ec.message();
    ASSERT_EQ(::write(p.fd[1], "x", 1), 1);
    EXPECT_TRUE(ready_mask(high, 1s) & kReadable);
    EXPECT_FALSE(sel->unregister(high));
  }
  ::close(high);
}

INSTANTIATE_TEST_SUITE_P(Backends, SelectorConformance, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

// Real-time signal queue overflow: the kernel drops the queued signal and sends SIGIO instead.
// Simulated by stealing the real-time signals before the selector sees them, then raising SIGIO:
// the backend must find the ready descriptors by polling its whole set.
TEST(SigioBackend, QueueOverflowFallsBackToPollingEverything) {
  auto s = make_selector("sigio");
  ASSERT_TRUE(s.ok());
  auto& sel = **s;
  std::vector<std::unique_ptr<SocketPair>> pairs;
  for (int i = 0; i < 20; ++i) {
    pairs.push_back(std::make_unique<SocketPair>());
    ASSERT_FALSE(sel.register_fd(pairs.back()->fd[0], kReadable));
  }
  ASSERT_TRUE(sel.select(0ms).ok());  // the initial check: nothing readable yet
  for (int i = 0; i < 20; i += 2)
    ASSERT_EQ(::write(pairs[i]->fd[1], "x", 1), 1);
  sigset_t rt;
  sigemptyset(&rt);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig)
    sigaddset(&rt, sig);
  timespec zero{0, 0};
  int stolen = 0;
  while (::sigtimedwait(&rt, nullptr, &zero) > 0)
    ++stolen;
  ASSERT_GT(stolen, 0) << "the writes should have queued signals";
  EXPECT_EQ(sel.select(20ms)->size(), 0u) << "the signals are gone: nothing to report yet";
  ::pthread_kill(::pthread_self(), SIGIO);  // what the kernel sends on overflow
  auto events = sel.select(1s);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 10u) << "every ready descriptor found by the rescan";
}

TEST(SelectorFactory, BestIsEpollAndUnknownNamesAreErrors) {
  auto best = make_selector("best");
  ASSERT_TRUE(best.ok());
  EXPECT_EQ((*best)->name(), "epoll");
  auto bad = make_selector("kqueue-on-linux");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), Error::unknown_backend);
  EXPECT_NE(backend_names_joined().find("epoll-et"), std::string::npos);
}

}  // namespace
}  // namespace muxio
