// io-nonblocking: non-blocking sockets and busy polling, no multiplexer.
//
// Model: every socket is O_NONBLOCK, so accept()/recv()/send() return at once — with data, or
// with EAGAIN ("not ready yet"). One thread loops over the listener and all connections, asking
// each in turn. The seeds: the process "keeps asking the kernel whether the data is ready";
// waiting no longer blocks (the copy phase still does), but "calling recv() in a loop pushes CPU
// usage up sharply" — their Python version sleeps between rounds to keep the machine usable,
// which in turn "increases the response latency", since data that arrives just after a round
// waits for the next one. This version never sleeps, so it shows the CPU burn: one core at 100%
// even with no client at all. Every round also costs a system call per connection, ready or not.
#include <string>
#include <vector>

#include "common.hpp"

using namespace iomodels;

namespace {

struct Conn {
  int fd;
  std::string outbox;  // echoed bytes the socket did not take yet
};

}  // namespace

int main(int argc, char** argv) {
  install_stop_handler();
  int listener = listen_from_args(argc, argv, "io-nonblocking");
  set_nonblocking(listener);
  std::vector<Conn> conns;
  char buf[64 * 1024];
  while (!g_stop) {  // the busy loop: no call in it ever waits
    int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) conns.push_back(Conn{fd, {}});
    for (size_t i = 0; i < conns.size();) {
      Conn& c = conns[i];
      bool closed = false;
      if (c.outbox.empty()) {  // read only when the last echo is out: bounded memory
        ssize_t n = recv(c.fd, buf, sizeof buf, 0);
        if (n > 0) {
          c.outbox.assign(buf, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          closed = true;
        }
      }
      if (!closed && !c.outbox.empty()) {
        ssize_t n = send(c.fd, c.outbox.data(), c.outbox.size(), MSG_NOSIGNAL);
        if (n > 0) {
          c.outbox.erase(0, static_cast<size_t>(n));
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          closed = true;
        }
      }
      if (closed) {
        close(c.fd);
        c = std::move(conns.back());
        conns.pop_back();
      } else {
        ++i;
      }
    }
  }
  for (auto& c : conns)
    close(c.fd);
  close(listener);
  return 0;
}
