// io-threads: blocking IO with a thread per connection.
//
// Model: the main thread blocks in accept(); every client gets its own thread that blocks in
// recv()/send() — blocking IO code, many clients at once. The seeds: each connection has its own
// thread, so one blocked connection never stops the others; but threads cost memory (a stack
// each) and context switches, shared state needs locks, and with "hundreds or thousands" of
// connections thread-per-connection "seriously occupies system resources". They also say that
// with few connections a select/epoll server is not necessarily faster than threads + blocking
// IO, and may have higher latency.
#include <mutex>
#include <set>
#include <thread>

#include "common.hpp"

using namespace iomodels;

namespace {

std::mutex g_mutex;
std::set<int> g_conns;  // open connections, so that a stop can wake their threads

void serve(int conn) {
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = recv(conn, buf, sizeof buf, 0);  // blocks this thread only
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!send_all(conn, buf, static_cast<size_t>(n))) break;
  }
  std::lock_guard lock(g_mutex);
  g_conns.erase(conn);
  close(conn);
}

}  // namespace

int main(int argc, char** argv) {
  install_stop_handler();
  int listener = listen_from_args(argc, argv, "io-threads");
  // Worker threads inherit this mask: the stop signal always lands in the main thread's accept().
  sigset_t old = block_stop_signals();
  while (!g_stop) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    block_stop_signals();
    if (conn < 0) {
      if (errno == EMFILE || errno == ENFILE) usleep(50 * 1000);  // let connections close first
      continue;
    }
    std::lock_guard lock(g_mutex);
    g_conns.insert(conn);
    std::thread(serve, conn).detach();
  }
  // Stop: wake every blocked worker (recv returns 0) and wait a bounded time for them to leave.
  {
    std::lock_guard lock(g_mutex);
    for (int c : g_conns)
      shutdown(c, SHUT_RDWR);
  }
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(g_mutex);
      if (g_conns.empty()) break;
    }
    usleep(10 * 1000);
  }
  close(listener);
  return 0;
}
