// Helpers shared by the tests: backend lists for parametrised suites, socket pairs, and running a
// task on a fresh loop.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "muxio/muxio.hpp"

namespace muxio::test {

inline std::vector<std::string> all_backends() {
  std::vector<std::string> names;
  for (const auto& b : backend_names())
    names.emplace_back(b.name);
  return names;
}

inline std::string backend_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s) {
    if (c == '-') c = '_';
  }
  return s;
}

// A connected pair of non-blocking stream sockets, closed on destruction (unless released).
struct SocketPair {
  int fd[2] = {-1, -1};
  SocketPair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) != 0) {
      ADD_FAILURE() << "socketpair failed";
    }
  }
  ~SocketPair() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  void close(int i) {
    if (fd[i] >= 0) ::close(std::exchange(fd[i], -1));
  }
  int release(int i) { return std::exchange(fd[i], -1); }
};

// Binds a listener on 127.0.0.1 with a kernel-chosen port.
inline TcpListener listen_local(EventLoop& loop, ListenOptions opt = {}) {
  auto addr = SocketAddress::parse("127.0.0.1:0");
  auto l = TcpListener::bind(loop, *addr, opt);
  EXPECT_TRUE(l.ok()) << l.error().message();
  return std::move(*l);
}

inline std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// n pseudo-random bytes, the same for the same seed.
inline std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> v(n);
  for (auto& b : v)
    b = static_cast<std::byte>(rng());
  return v;
}

// Reads exactly n bytes from any stream (TCP, TLS), or fails (ECONNRESET at an early end).
inline Task<Result<std::vector<std::byte>>> read_exactly(Stream& s, std::size_t n) {
  std::vector<std::byte> out(n);
  std::size_t got = 0;
  while (got < n) {
    auto r = co_await s.read_some(std::span(out).subspan(got));
    if (!r) co_return r.error();
    if (*r == 0) co_return errno_code(ECONNRESET);
    got += *r;
  }
  co_return out;
}

}  // namespace muxio::test
