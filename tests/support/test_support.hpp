// Helpers shared by the tests: backend lists for parametrised suites, socket pairs, and running a
// task on a fresh loop.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

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

}  // namespace muxio::test
