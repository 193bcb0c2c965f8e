// io-blocking: the blocking IO model, one client at a time.
//
// Model: every call blocks until it is done. recv() waits through both phases of a read — until
// data arrives, then while the kernel copies it into our buffer — and returns once, with data.
// The seeds (after Stevens, UNP §6.2): "blocking IO blocks in both phases"; it is the simplest
// code there is, and one recvfrom is one system call, but a process blocked on one client
// cannot serve another: the next client waits in the listen backlog until this one leaves. To
// serve many clients with blocking IO you need a process or a thread per connection
// (io-fork, io-threads).
#include "common.hpp"

using namespace iomodels;

int main(int argc, char** argv) {
  install_stop_handler();
  int listener = listen_from_args(argc, argv, "io-blocking");
  char buf[64 * 1024];
  while (!g_stop) {
    int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);  // blocks: wait for a client
    if (conn < 0) continue;                                        // EINTR (stop?) or a reset
    for (;;) {
      ssize_t n = recv(conn, buf, sizeof buf, 0);  // blocks: wait for data, then copy it
      if (n < 0 && errno == EINTR && !g_stop) continue;
      if (n <= 0) break;                                        // peer closed, error, or stop
      if (!send_all(conn, buf, static_cast<size_t>(n))) break;  // blocks while the peer is slow
    }
    close(conn);
  }
  close(listener);
  return 0;
}
