// io-epoll: IO multiplexing with epoll(7), level-triggered.
//
// Model: the interest set lives in the kernel. epoll_ctl() registers a descriptor once; the
// kernel then puts it on a ready list by callback when its state changes, and epoll_wait()
// returns only the ready descriptors. The seeds: epoll fixes select's three weaknesses — the set
// is copied once (at epoll_ctl), not on every wait; the kernel does not scan every descriptor
// ("when awake it only checks whether the ready list is empty"); and there is no cap beyond the
// descriptor limit. Level-triggered (the default) reports a descriptor as long as it is ready,
// like select and poll, so a handler may leave data unread and hear about it again.
#include <sys/epoll.h>

#include <string>
#include <vector>

#include "common.hpp"

using namespace iomodels;

namespace {

int g_epfd = -1;

void watch(int fd, uint32_t events, int op) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  epoll_ctl(g_epfd, op, fd, &ev);
}

}  // namespace

int main(int argc, char** argv) {
  install_stop_handler();
  int listener = listen_from_args(argc, argv, "io-epoll");
  set_nonblocking(listener);
  sigset_t wait_mask = block_stop_signals();
  g_epfd = epoll_create1(EPOLL_CLOEXEC);
  if (g_epfd < 0) die("epoll_create1");
  watch(listener, EPOLLIN, EPOLL_CTL_ADD);
  std::vector<std::string> outbox;  // indexed by fd
  epoll_event events[256];
  char buf[64 * 1024];
  while (!g_stop) {
    int n = epoll_pwait(g_epfd, events, 256, -1, &wait_mask);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        int conn = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (conn < 0) continue;
        if (outbox.size() <= static_cast<size_t>(conn)) outbox.resize(conn + 1);
        watch(conn, EPOLLIN, EPOLL_CTL_ADD);
        continue;
      }
      std::string& out = outbox[fd];
      bool closed = false;
      if (out.empty()) {  // EPOLLIN (or HUP/ERR, which recv reports)
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r > 0) {
          out.assign(buf, static_cast<size_t>(r));
        } else if (r == 0 || errno != EAGAIN) {
          closed = true;
        }
      }
      if (!closed && !out.empty()) {  // send at once; wait for EPOLLOUT only for the rest
        bool was_waiting = (events[i].events & EPOLLOUT) != 0;
        ssize_t w = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        if (w > 0) {
          out.erase(0, static_cast<size_t>(w));
        } else if (w < 0 && errno != EAGAIN) {
          closed = true;
        }
        // Switch the interest only when it changes: read while the outbox is empty.
        if (!closed && out.empty() && was_waiting) watch(fd, EPOLLIN, EPOLL_CTL_MOD);
        if (!closed && !out.empty() && !was_waiting) watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
      }
      if (closed) {
        out.clear();
        close(fd);  // closing removes it from the epoll set
      }
    }
  }
  // Connections still open are closed by the kernel at exit.
  close(g_epfd);
  close(listener);
  return 0;
}
