// The boring parts every raw iomodels program shares, so that each program file shows only its
// IO model: parsing `--listen HOST:PORT`, opening the listening socket, raising the descriptor
// limit, the stop flag set by SIGINT/SIGTERM, and a send-everything helper for blocking sockets.
//
// Every program prints `listening on HOST:PORT` on stdout once it accepts connections (port 0
// picks a free port), and exits with status 0 after SIGINT or SIGTERM.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace iomodels {

// Set by SIGINT/SIGTERM. Blocking models see the signal as EINTR (no SA_RESTART); the
// multiplexers wait with the signals unblocked only inside pselect/ppoll/epoll_pwait.
inline volatile sig_atomic_t g_stop = 0;

inline void on_stop_signal(int) {
  g_stop = 1;
}

// Installs the SIGINT/SIGTERM handler without SA_RESTART and ignores SIGPIPE.
inline void install_stop_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked accept/recv returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// Blocks SIGINT/SIGTERM and returns the previous mask, for pselect/ppoll/epoll_pwait: the signal
// can then only arrive while the process waits, so no wake-up is ever lost.
inline sigset_t block_stop_signals() {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  return old;
}

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

inline void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Lifts the soft descriptor limit to the hard one: the lab opens 10,000 connections.
inline void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// Parses `--listen HOST:PORT` (IPv4; default 127.0.0.1:7000), binds, listens and prints
// `listening on HOST:PORT`. Exits with status 2 on a bad argument.
inline int listen_from_args(int argc, char** argv, const char* prog) {
  std::string listen = "127.0.0.1:7000";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (arg.rfind("--listen=", 0) == 0) {
      listen = arg.substr(9);
    } else {
      std::fprintf(stderr, "usage: %s [--listen HOST:PORT]\n", prog);
      std::exit(2);
    }
  }
  auto colon = listen.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  char* end = nullptr;
  long port = colon == std::string::npos ? -1 : std::strtol(listen.c_str() + colon + 1, &end, 10);
  if (port < 0 || port > 65535 || *end != '\0' ||
      inet_pton(AF_INET, listen.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "%s: --listen %s: expected IPV4:PORT\n", prog, listen.c_str());
    std::exit(2);
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));

  raise_fd_limit();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("bind");
  if (::listen(fd, 4096) < 0) die("listen");
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  char host[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr.sin_addr, host, sizeof host);
  std::printf("listening on %s:%d\n", host, ntohs(addr.sin_port));
  std::fflush(stdout);
  return fd;
}

// Sends all of buf on a blocking socket, resuming after partial writes. False on error or stop.
inline bool send_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR && !g_stop) continue;
    if (n <= 0) return false;
    buf += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace iomodels
