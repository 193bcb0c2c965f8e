// The echo-server program under load: thousands of concurrent connections with byte-exact
// verification on every backend, and a server that runs out of descriptors without spinning.
#include <random>

#include "child_process.hpp"
#include "test_support.hpp"

namespace muxio {
namespace {

using namespace std::chrono_literals;

const std::string kEchoServer = std::string(MUXIO_BIN_DIR) + "/echo-server";

struct Server {
  std::unique_ptr<test::ChildProcess> process;
  SocketAddress addr;
};

// Starts echo-server on a kernel-chosen port; the port is read from its start-up line.
Server start_server(const std::string& backend, rlim_t nofile = 0, unsigned threads = 1) {
  Server s;
  s.process = std::make_unique<test::ChildProcess>(
      std::vector<std::string>{kEchoServer, "--io", backend, "--listen", "127.0.0.1:0", "--threads",
                               std::to_string(threads)},
      nofile);
  auto line = s.process->first_line(10s);
  EXPECT_TRUE(line.has_value()) << "echo-server did not start";
  if (!line) return s;
  auto at = line->find(" on ");
  auto comma = line->find(',', at);
  auto addr = SocketAddress::parse(line->substr(at + 4, comma - at - 4));
  EXPECT_TRUE(addr.ok()) << *line;
  if (addr) s.addr = *addr;
  return s;
}

// One client: several messages of varying size, each read back and compared byte for byte.
Task<bool> converse(TcpStream& s, unsigned seed, int rounds) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out;
  std::vector<std::byte> in;
  for (int r = 0; r < rounds; ++r) {
    out.resize(1 + rng() % 4096);
    for (auto& b : out)
      b = static_cast<std::byte>(rng());
    auto failed = co_await s.send_all(out);
    if (failed) co_return false;
    in.assign(out.size(), std::byte{0});
    std::size_t got = 0;
    while (got < in.size()) {
      auto n = co_await s.recv(std::span(in).subspan(got));
      if (!n || *n == 0) co_return false;
      got += *n;
    }
    if (in != out) co_return false;
  }
  co_return true;
}

// Opens `count` connections (in batches, so the listen backlog is not flooded), keeps them all
// open, then runs every conversation at once. Returns how many verified.
Task<std::size_t> storm(EventLoop& loop, SocketAddress addr, std::size_t count) {
  std::vector<TcpStream> conns;
  conns.reserve(count);
  const std::size_t batch = 250;
  for (std::size_t start = 0; start < count; start += batch) {
    std::vector<TaskHandle> connecting;
    std::vector<Result<TcpStream>> results;
    for (std::size_t i = start; i < std::min(start + batch, count); ++i) {
      results.emplace_back(Error::cancelled);
    }
    for (std::size_t i = 0; i < results.size(); ++i) {
      connecting.push_back(
          loop.spawn([](EventLoop& loop, SocketAddress a, Result<TcpStream>& out) -> Task<void> {
            out = co_await with_timeout(20s, TcpStream::connect(loop, a));
          }(loop, addr, results[i])));
    }
    for (auto& h : connecting)
      (void)co_await h.join();
    for (auto& r : results) {
      EXPECT_TRUE(r.ok()) << r.error().message();
      if (r) conns.push_back(std::move(*r));
    }
  }
  std::size_t verified = 0;
  std::vector<TaskHandle> talking;
  for (std::size_t i = 0; i < conns.size(); ++i) {
    talking.push_back(loop.spawn([](TcpStream& s, unsigned seed, std::size_t& ok) -> Task<void> {
      auto echoed = co_await with_timeout(60s, converse(s, seed, 3));
      if (echoed) ++ok;
    }(conns[i], static_cast<unsigned>(i), verified)));
  }
  for (auto& h : talking)
    (void)co_await h.join();
  co_return verified;
}

enum class Probe { served, closed, hung };

// Whether a connection is echoed, closed by the server, or left without an answer.
Task<Probe> probe(TcpStream& s, unsigned seed) {
  auto echoed = co_await with_timeout(2s, converse(s, seed, 1));
  if (echoed) co_return Probe::served;
  std::array<std::byte, 64> buf;
  auto r = co_await with_timeout(1s, s.read_some(buf));
  if (r.error() == Error::timed_out) co_return Probe::hung;
  co_return Probe::closed;
}

class EchoStress : public ::testing::TestWithParam<std::string> {};

TEST_P(EchoStress, ThousandsOfConcurrentConnectionsByteExact) {
  rlim_t limit = test::raise_nofile_limit();
  // select() serves descriptors below FD_SETSIZE only: stay under it there.
  std::size_t want = GetParam() == "select" ? 900 : 5000;
  if (limit < 2 * want + 64) {
    GTEST_SKIP() << "RLIMIT_NOFILE " << limit << " is too low for " << want << " connections";
  }
  Server server = start_server(GetParam());
  ASSERT_NE(server.addr.port(), 0);
  EventLoop loop("epoll");
  std::size_t verified = loop.run_until_complete(storm(loop, server.addr, want));
  EXPECT_EQ(verified, want);
  EXPECT_EQ(server.process->stop(SIGTERM, 10s), 0) << "echo-server exits cleanly on SIGTERM";
}

INSTANTIATE_TEST_SUITE_P(Backends, EchoStress, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

TEST(EchoServer, MultipleLoopsShareThePortWithReusePort) {
  test::raise_nofile_limit();
  Server server = start_server("epoll", 0, 2);
  ASSERT_NE(server.addr.port(), 0);
  EventLoop loop("epoll");
  EXPECT_EQ(loop.run_until_complete(storm(loop, server.addr, 400)), 400u);
}

// Out of descriptors, accept(2) fails but the connection stays queued: a naive level-triggered
// server then spins at 100% CPU. echo-server must shed such connections and keep serving.
TEST(EchoServer, RunningOutOfDescriptorsNeitherSpinsNorStopsService) {
  test::raise_nofile_limit();
  Server server = start_server("epoll", 40);
  ASSERT_NE(server.addr.port(), 0);
  EventLoop loop("epoll");
  auto main = [&]() -> Task<void> {
    // More connections than the server has descriptors.
    std::vector<TcpStream> conns;
    for (int i = 0; i < 80; ++i) {
      auto c = co_await with_timeout(5s, TcpStream::connect(loop, server.addr));
      if (c) conns.push_back(std::move(*c));
    }
    co_await sleep_for(300ms);
    double cpu_before = server.process->cpu_seconds();
    co_await sleep_for(1s);
    double cpu_used = server.process->cpu_seconds() - cpu_before;
    EXPECT_LT(cpu_used, 0.5) << "the server spins while out of descriptors";
    // The first connections got descriptors and are served; the others were shed: closed at
    // once, not left hanging in the listen queue.
    std::size_t served = 0;
    std::size_t closed = 0;
    std::size_t hung = 0;
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Probe probed = co_await probe(conns[i], static_cast<unsigned>(i));
      switch (probed) {
        case Probe::served:
          ++served;
          break;
        case Probe::closed:
          ++closed;
          break;
        case Probe::hung:
          ++hung;
          break;
      }
    }
    EXPECT_GT(served, 10u);
    EXPECT_GT(closed, 0u);
    EXPECT_EQ(hung, 0u) << "connections left waiting in the backlog instead of being shed";
    // Free descriptors: new clients are served again.
    conns.clear();
    co_await sleep_for(100ms);
    auto fresh = co_await with_timeout(5s, TcpStream::connect(loop, server.addr));
    EXPECT_TRUE(fresh.ok());
    if (fresh) {
      auto echoed = co_await with_timeout(5s, converse(*fresh, 99, 2));
      EXPECT_TRUE(echoed);
    }
  };
  loop.run_until_complete(main());
}

}  // namespace
}  // namespace muxio
