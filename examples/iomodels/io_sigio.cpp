// io-sigio: signal-driven IO — O_ASYNC, F_SETOWN, F_SETSIG and sigwaitinfo().
//
// Model: the process asks the kernel to send it a signal whenever a descriptor becomes ready
// (fcntl F_SETOWN + O_ASYNC); nothing waits on the descriptors themselves. The seeds: "the kernel
// sends SIGIO when the descriptor is ready; the process is not blocked while waiting for the
// data", and "signal-driven IO is rarely used in practice". Plain SIGIO does not say which
// descriptor is ready and does not queue, so this program uses the Linux refinement: F_SETSIG
// picks a real-time signal, which is queued and carries the descriptor (si_fd) and the event
// (si_band). Rather than doing work in an async handler, the signals stay blocked and the main
// loop collects them with sigwaitinfo() — a readiness queue, like epoll's.
//
// Signals are edge-like: one per change of state, so every handler reads/writes until EAGAIN (as
// io-epoll-et). The special problem: the real-time signal queue is bounded (RLIMIT_SIGPENDING).
// When it overflows the kernel falls back to a plain SIGIO and events are lost; the documented
// cure is to treat SIGIO as "anything may be ready": flush the queued real-time signals and serve
// every descriptor once, as a poll of the whole set would.
#include <string>
#include <vector>

#include "common.hpp"

using namespace iomodels;

namespace {

const int kReadySignal = SIGRTMIN + 1;
char g_buf[64 * 1024];

struct Conn {
  bool open = false;
  std::string outbox;
};

// Asks for kReadySignal, carrying the fd, whenever fd becomes readable or writable.
void make_async(int fd) {
  fcntl(fd, F_SETOWN, getpid());
  fcntl(fd, F_SETSIG, kReadySignal);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK | O_ASYNC);
}

// Echo until EAGAIN in the direction we need (as in io-epoll-et); false when the client is gone.
bool pump(int fd, std::string& out) {
  for (;;) {
    while (!out.empty()) {
      ssize_t w = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (w < 0) return errno == EAGAIN;  // a POLL_OUT signal follows when space frees up
      out.erase(0, static_cast<size_t>(w));
    }
    ssize_t r = recv(fd, g_buf, sizeof g_buf, 0);
    if (r < 0) return errno == EAGAIN;
    if (r == 0) return false;
    out.assign(g_buf, static_cast<size_t>(r));
  }
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, kReadySignal);
  sigaddset(&wanted, SIGIO);  // the queue-overflow signal
  sigaddset(&wanted, SIGINT);
  sigaddset(&wanted, SIGTERM);
  sigprocmask(SIG_BLOCK, &wanted, nullptr);  // blocked: they wait in the queue for sigwaitinfo

  int listener = listen_from_args(argc, argv, "io-sigio");
  make_async(listener);
  std::vector<Conn> conns;  // indexed by fd
  unsigned long overflows = 0;

  auto accept_all = [&] {
    for (;;) {
      int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      if (conns.size() <= static_cast<size_t>(fd)) conns.resize(fd + 1);
      conns[fd].open = true;
      make_async(fd);
      // Data that arrived before O_ASYNC was set raised no signal: serve it now.
      if (!pump(fd, conns[fd].outbox)) {
        conns[fd] = Conn{};
        close(fd);
      }
    }
  };
  auto serve = [&](int fd) {
    if (fd == listener) return accept_all();
    // A signal queued for a descriptor that was closed since is stale: ignore it.
    if (fd < 0 || static_cast<size_t>(fd) >= conns.size() || !conns[fd].open) return;
    if (!pump(fd, conns[fd].outbox)) {
      conns[fd] = Conn{};
      close(fd);
    }
  };

  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&wanted, &info);
    if (sig == SIGINT || sig == SIGTERM) break;
    if (sig == kReadySignal) {
      serve(info.si_fd);
    } else if (sig == SIGIO) {
      // Overflow: the queue lost events. Drop what is queued (it is covered by the sweep) and
      // serve every descriptor once.
      ++overflows;
      timespec zero{};
      sigset_t rt;
      sigemptyset(&rt);
      sigaddset(&rt, kReadySignal);
      while (sigtimedwait(&rt, &info, &zero) > 0) {
      }
      accept_all();
      for (size_t fd = 0; fd < conns.size(); ++fd)
        if (conns[fd].open) serve(static_cast<int>(fd));
    }
  }
  if (overflows) std::fprintf(stderr, "io-sigio: %lu signal queue overflows\n", overflows);
  for (size_t fd = 0; fd < conns.size(); ++fd)
    if (conns[fd].open) close(static_cast<int>(fd));
  close(listener);
  return 0;
}
