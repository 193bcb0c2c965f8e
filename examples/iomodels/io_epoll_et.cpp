// io-epoll-et: IO multiplexing with epoll(7), edge-triggered (EPOLLET).
//
// Model: as io-epoll, but the kernel reports a descriptor only when its state changes — new data
// arrived, buffer space freed — "it says it once; if we do not act, it will not tell us again".
// So every handler must read (or write) until EAGAIN: data left unread after a notification is
// never announced again and that client hangs. In exchange each descriptor is registered once,
// for both directions, and never modified. The seeds: "in theory edge-triggered performs better,
// but the code is considerably more complex".
#include <sys/epoll.h>

#include <string>
#include <vector>

#include "common.hpp"

using namespace iomodels;

namespace {

char g_buf[64 * 1024];

// Moves bytes until the socket says EAGAIN in the direction we need: first flush the outbox,
// then read and echo until the kernel has no more. Returns false when the connection is done.
bool pump(int fd, std::string& out) {
  for (;;) {
    while (!out.empty()) {
      ssize_t w = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (w < 0) return errno == EAGAIN;  // EAGAIN: an EPOLLOUT edge will call us again
      out.erase(0, static_cast<size_t>(w));
    }
    ssize_t r = recv(fd, g_buf, sizeof g_buf, 0);
    if (r < 0) return errno == EAGAIN;  // drained: the next EPOLLIN edge will call us again
    if (r == 0) return false;
    out.assign(g_buf, static_cast<size_t>(r));  // bounded: read again only once it is sent
  }
}

}  // namespace

int main(int argc, char** argv) {
  install_stop_handler();
  int listener = listen_from_args(argc, argv, "io-epoll-et");
  set_nonblocking(listener);
  sigset_t wait_mask = block_stop_signals();
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = listener;
  epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);
  std::vector<std::string> outbox;  // indexed by fd
  epoll_event events[256];
  while (!g_stop) {
    int n = epoll_pwait(epfd, events, 256, -1, &wait_mask);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        for (;;) {  // accept until EAGAIN: one edge may stand for many pending connections
          int conn = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (conn < 0) break;
          if (outbox.size() <= static_cast<size_t>(conn)) outbox.resize(conn + 1);
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;  // once, both directions
          cev.data.fd = conn;
          epoll_ctl(epfd, EPOLL_CTL_ADD, conn, &cev);
        }
        continue;
      }
      if (!pump(fd, outbox[fd])) {
        outbox[fd].clear();
        close(fd);
      }
    }
  }
  close(epfd);
  close(listener);
  return 0;
}
