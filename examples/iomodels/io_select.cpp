// io-select: IO multiplexing with select(2), level-triggered.
//
// Model: one process blocks in select() on many descriptors at once and then serves the ready
// ones with non-blocking calls — the waiting phase is shared, the copy phase is still ours. The
// seeds ("IO multiplexing", also called event-driven IO): one process serves many connections;
// it costs two system calls per read (select + recv) instead of one, so it is "not faster for one
// connection — it wins by serving more". select's weaknesses, as the seeds list them: (1) the
// whole descriptor set is copied into the kernel on every call, (2) the kernel scans every
// descriptor on every call, (3) the set is capped at FD_SETSIZE = 1024. Like their Python server
// with per-connection message queues, this one keeps an outbox per connection and asks for
// write readiness only while the outbox holds data.
//
// FD_SETSIZE: FD_SET on a descriptor >= 1024 writes out of bounds, so a connection that gets such
// a descriptor is closed at once (the client sees the close) — the cap, made visible.
#include <sys/select.h>

#include <string>
#include <vector>

#include "common.hpp"

using namespace iomodels;

int main(int argc, char** argv) {
  install_stop_handler();
  int listener = listen_from_args(argc, argv, "io-select");
  set_nonblocking(listener);
  sigset_t wait_mask = block_stop_signals();
  std::vector<int> conns;                       // connected descriptors
  std::vector<std::string> outbox(FD_SETSIZE);  // indexed by fd
  bool warned = false;
  char buf[64 * 1024];
  while (!g_stop) {
    // The sets are in/out parameters: rebuilt before every call.
    fd_set rfds, wfds;
    FD_ZERO(&rfds);
    FD_ZERO(&wfds);
    FD_SET(listener, &rfds);
    int maxfd = listener;
    for (int fd : conns) {
      if (outbox[fd].empty()) {
        FD_SET(fd, &rfds);  // read only when the last echo is out: bounded memory
      } else {
        FD_SET(fd, &wfds);
      }
      if (fd > maxfd) maxfd = fd;
    }
    int ready = pselect(maxfd + 1, &rfds, &wfds, nullptr, nullptr, &wait_mask);
    if (ready < 0) continue;  // EINTR: the stop signal
    if (FD_ISSET(listener, &rfds)) {
      int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= FD_SETSIZE) {
        if (!warned) std::fprintf(stderr, "io-select: fd %d >= FD_SETSIZE, refusing\n", fd);
        warned = true;
        close(fd);
      } else if (fd >= 0) {
        conns.push_back(fd);
      }
    }
    for (size_t i = 0; i < conns.size();) {
      int fd = conns[i];
      bool closed = false;
      if (FD_ISSET(fd, &rfds)) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
          outbox[fd].assign(buf, static_cast<size_t>(n));
        } else if (n == 0 || errno != EAGAIN) {
          closed = true;
        }
      }
      // Try the send at once (it usually succeeds); select only for what the socket refused.
      if (!closed && !outbox[fd].empty() && (FD_ISSET(fd, &rfds) || FD_ISSET(fd, &wfds))) {
        ssize_t n = send(fd, outbox[fd].data(), outbox[fd].size(), MSG_NOSIGNAL);
        if (n > 0) {
          outbox[fd].erase(0, static_cast<size_t>(n));
        } else if (n < 0 && errno != EAGAIN) {
          closed = true;
        }
      }
      if (closed) {
        outbox[fd].clear();
        close(fd);
        conns[i] = conns.back();
        conns.pop_back();
      } else {
        ++i;
      }
    }
  }
  for (int fd : conns)
    close(fd);
  close(listener);
  return 0;
}
