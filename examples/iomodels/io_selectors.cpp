// io-selectors: the seeds' `selectors` callback echo server, on muxio's Selector.
//
// Model: Python's selectors module — register(fd, events, data) with a callback as `data`;
// select() returns (key, mask) pairs and the loop calls key.data(key.fd, mask). The seeds: the
// event-driven model is "an event queue, a loop that takes events out, and a handler registered
// for each", and selectors.DefaultSelector "picks the most efficient mechanism of the platform",
// so the same program runs on select, poll or epoll. muxio::Selector is that module in C++;
// `--io NAME` forces a mechanism (default: best, epoll on Linux).
//
// The seeds' read() "hopes send won't block"; this one keeps what the socket refused in an outbox
// and re-registers the connection for EVENT_WRITE with the write callback until it is out. On
// edge-triggered backends (epoll-et, sigio, uring) a callback repeats until EAGAIN.
#include <algorithm>
#include <string>
#include <vector>

#include "common.hpp"
#include "muxio/selector.hpp"

using namespace iomodels;
using muxio::Events;

namespace {

// key.data: a callback, as in the seeds' `sel.register(conn, selectors.EVENT_READ, read)`.
struct Callback {
  void (*call)(int fd, Events mask);
};

muxio::Selector* g_sel = nullptr;
std::vector<std::string> g_outbox;  // indexed by fd
int g_stop_pipe[2] = {-1, -1};
char g_buf[64 * 1024];

void on_accept(int fd, Events mask);
void on_read(int fd, Events mask);
void on_write(int fd, Events mask);
void on_stop(int fd, Events mask);
Callback accept_cb{on_accept}, read_cb{on_read}, write_cb{on_write}, stop_cb{on_stop};

void drop(int fd) {
  g_sel->unregister(fd);  // unregister before close, always
  g_outbox[fd].clear();
  close(fd);
}

void on_accept(int listener, Events) {
  do {
    int conn = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn < 0) return;
    if (g_outbox.size() <= static_cast<size_t>(conn)) g_outbox.resize(conn + 1);
    if (g_sel->register_fd(conn, muxio::kReadable, &read_cb)) close(conn);  // e.g. fd >= 1024
  } while (g_sel->edge_triggered());
}

void on_read(int conn, Events) {
  do {
    ssize_t n = recv(conn, g_buf, sizeof g_buf, 0);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) return drop(conn);
    ssize_t w = send(conn, g_buf, static_cast<size_t>(n), MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN) return drop(conn);
    if (w < n) {  // the socket took only part: keep the rest and wait until it is writable
      g_outbox[conn].assign(g_buf + std::max<ssize_t>(w, 0), g_buf + n);
      g_sel->modify(conn, muxio::kWritable, &write_cb);
      return;
    }
  } while (g_sel->edge_triggered());
}

void on_write(int conn, Events) {
  std::string& out = g_outbox[conn];
  while (!out.empty()) {
    ssize_t w = send(conn, out.data(), out.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EAGAIN) return;
    if (w < 0) return drop(conn);
    out.erase(0, static_cast<size_t>(w));
  }
  g_sel->modify(conn, muxio::kReadable, &read_cb);  // all out: read the next message
}

void on_stop(int, Events) {
  g_stop = 1;
}

void write_stop_pipe(int) {
  char c = 0;
  [[maybe_unused]] ssize_t n = write(g_stop_pipe[1], &c, 1);  // the self-pipe trick
}

}  // namespace

int main(int argc, char** argv) {
  std::string io = "best";
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--io" && i + 1 < argc) {
      io = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  auto sel = muxio::make_selector(io);
  if (!sel) {
    std::fprintf(stderr, "io-selectors: --io %s: %s\n", io.c_str(), sel.error().message().c_str());
    return 2;
  }
  g_sel = sel->get();
  if (pipe2(g_stop_pipe, O_NONBLOCK | O_CLOEXEC) < 0) die("pipe2");
  struct sigaction sa {};
  sa.sa_handler = write_stop_pipe;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  int listener = listen_from_args(static_cast<int>(rest.size()), rest.data(), "io-selectors");
  set_nonblocking(listener);
  g_outbox.resize(listener + 1);
  g_sel->register_fd(listener, muxio::kReadable, &accept_cb);
  g_sel->register_fd(g_stop_pipe[0], muxio::kReadable, &stop_cb);

  while (!g_stop) {
    auto events = g_sel->select();  // blocks until something is ready
    if (!events) die("select");
    for (const muxio::ReadyEvent& ev : *events) {
      // A callback earlier in this batch may have closed this fd: look the key up again.
      const muxio::SelectorKey* key = g_sel->get_key(ev.key.fd);
      if (key == nullptr || key->data != ev.key.data) continue;
      static_cast<Callback*>(key->data)->call(key->fd, ev.mask);  // key.data(key.fileobj, mask)
    }
  }
  for (size_t fd = 0; fd < g_outbox.size(); ++fd)
    if (g_sel->get_key(static_cast<int>(fd)) != nullptr && static_cast<int>(fd) != listener)
      close(static_cast<int>(fd));
  close(listener);
  return 0;
}
