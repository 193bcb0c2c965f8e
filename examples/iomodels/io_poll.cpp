// io-poll: IO multiplexing with poll(2), level-triggered.
//
// Model: like select, one blocking wait over many descriptors, then non-blocking calls on the
// ready ones. The seeds: poll passes an array of pollfd {fd, events, revents} instead of bit sets,
// so there is no FD_SETSIZE cap and the array need not be rebuilt (events in, revents out); but
// "it still loops": the whole array is copied into the kernel and every descriptor is polled on
// every call, and the program scans every revents afterwards — cost grows with the number of
// descriptors, ready or not.
#include <poll.h>

#include <string>
#include <vector>

#include "common.hpp"

using namespace iomodels;

int main(int argc, char** argv) {
  install_stop_handler();
  int listener = listen_from_args(argc, argv, "io-poll");
  set_nonblocking(listener);
  sigset_t wait_mask = block_stop_signals();
  std::vector<pollfd> fds{{listener, POLLIN, 0}};  // fds[0] is the listener
  std::vector<std::string> outbox(1);              // parallel to fds
  char buf[64 * 1024];
  while (!g_stop) {
    if (ppoll(fds.data(), fds.size(), nullptr, &wait_mask) < 0) continue;  // EINTR: stop
    if (fds[0].revents & POLLIN) {
      int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        fds.push_back({fd, POLLIN, 0});
        outbox.emplace_back();
      }
    }
    for (size_t i = 1; i < fds.size();) {
      pollfd& p = fds[i];
      bool closed = (p.revents & (POLLERR | POLLNVAL)) != 0;
      if (!closed && (p.revents & (POLLIN | POLLHUP))) {
        ssize_t n = recv(p.fd, buf, sizeof buf, 0);
        if (n > 0) {
          outbox[i].assign(buf, static_cast<size_t>(n));
        } else if (n == 0 || errno != EAGAIN) {
          closed = true;
        }
      }
      if (!closed && !outbox[i].empty() && p.revents) {
        ssize_t n = send(p.fd, outbox[i].data(), outbox[i].size(), MSG_NOSIGNAL);
        if (n > 0) {
          outbox[i].erase(0, static_cast<size_t>(n));
        } else if (n < 0 && errno != EAGAIN) {
          closed = true;
        }
      }
      if (closed) {
        close(p.fd);
        fds[i] = fds.back();
        fds.pop_back();
        outbox[i] = std::move(outbox.back());
        outbox.pop_back();
        continue;  // the moved-in entry at i still has its own revents to handle
      }
      // Read while the outbox is empty, else wait until the socket can take more.
      p.events = outbox[i].empty() ? POLLIN : POLLOUT;
      p.revents = 0;
      ++i;
    }
  }
  for (size_t i = 1; i < fds.size(); ++i)
    close(fds[i].fd);
  close(listener);
  return 0;
}
