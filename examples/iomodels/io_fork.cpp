// io-fork: blocking IO with a process per connection.
//
// Model: the parent blocks in accept() and fork()s a child for every client; the child runs the
// blocking echo loop and exits; the parent reaps finished children (waitpid) so they do not stay
// zombies. The seeds: "for every request, create a new process" — the simplest to write, and one
// client can never corrupt another's memory, but "the overhead is large, so server performance
// is poor": each process has its own address space, page tables and descriptor table, and every
// switch between clients is a process switch, which the seeds call "very costly".
#include <sys/wait.h>

#include <set>

#include "common.hpp"

using namespace iomodels;

namespace {

std::set<pid_t> g_children;

void on_child(int) {}  // only there to interrupt accept(), so the parent reaps promptly

void reap(int flags) {
  pid_t pid;
  while ((pid = waitpid(-1, nullptr, flags)) > 0)
    g_children.erase(pid);
}

void serve(int conn) {
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = recv(conn, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR && !g_stop) continue;
    if (n <= 0) break;
    if (!send_all(conn, buf, static_cast<size_t>(n))) break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  install_stop_handler();
  struct sigaction sa {};
  sa.sa_handler = on_child;
  sigaction(SIGCHLD, &sa, nullptr);  // no SA_RESTART: accept() returns EINTR when a child ends
  int listener = listen_from_args(argc, argv, "io-fork");
  while (!g_stop) {
    reap(WNOHANG);
    int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == EAGAIN) usleep(50 * 1000);
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {  // child: serve this one client, then leave
      // A stop signal must end the child even if it lands just before a blocking recv/send
      // (a flag checked before the call cannot see it): the default action does.
      signal(SIGTERM, SIG_DFL);
      signal(SIGINT, SIG_DFL);
      if (g_stop) _exit(0);  // it came between fork() and here
      close(listener);
      serve(conn);
      _exit(0);
    }
    if (pid > 0) g_children.insert(pid);  // fork failed (pid < 0): the client just gets a close
    close(conn);                          // the child has its own copy of the descriptor
  }
  // Stop: ask every child to finish, then wait for them (a child ends its blocked recv on EINTR).
  for (pid_t pid : g_children)
    kill(pid, SIGTERM);
  reap(0);
  close(listener);
  return 0;
}
