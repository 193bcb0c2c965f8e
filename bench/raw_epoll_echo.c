/* raw-epoll-echo: the floor every echo server is compared against.
 *
 * Single thread, level-triggered epoll, nonblocking sockets. One read and one write per
 * readiness event and nothing else on the hot path: no FIONREAD, no epoll_ctl unless a write
 * comes up short. When it does, the rest is kept and the connection waits for EPOLLOUT instead
 * of EPOLLIN, so a client that stops reading cannot make the server buffer without limit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo_common.h"

enum { kBufSize = 64 * 1024, kMaxEvents = 256 };

/* Bytes read but not yet written back, for connections whose last write came up short. */
struct pending {
  char* data;
  size_t len;
  size_t off;
};

static int g_epfd;
static struct pending* g_pending; /* indexed by descriptor */
static size_t g_pending_cap;
static char g_buf[kBufSize];

static int open_listener(const struct sockaddr_storage* addr, socklen_t len) {
  int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, (const struct sockaddr*)addr, len) != 0 || listen(fd, SOMAXCONN) != 0) {
    perror("raw-epoll-echo: listen");
    exit(1);
  }
  return fd;
}

static void set_events(int fd, int op, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  epoll_ctl(g_epfd, op, fd, &ev);
}

static void close_conn(int fd) {
  free(g_pending[fd].data);
  memset(&g_pending[fd], 0, sizeof g_pending[fd]);
  close(fd); /* also leaves the epoll set: the descriptor is never duplicated */
}

static void on_accept(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      /* EAGAIN: backlog empty. EMFILE and friends: try again on the next event. */
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) perror("accept4");
      return;
    }
    if ((size_t)fd >= g_pending_cap) { /* the limit was raised, but stay safe */
      close(fd);
      continue;
    }
    /* Echoes must leave at once, not wait for the client's delayed ACK. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_events(fd, EPOLL_CTL_ADD, EPOLLIN);
  }
}

/* Keeps data[off..len) for later and switches the connection to waiting for EPOLLOUT. */
static void keep_rest(int fd, const char* data, size_t len) {
  struct pending* p = &g_pending[fd];
  p->data = malloc(len);
  if (!p->data) {
    close_conn(fd);
    return;
  }
  memcpy(p->data, data, len);
  p->len = len;
  p->off = 0;
  set_events(fd, EPOLL_CTL_MOD, EPOLLOUT);
}

static void on_readable(int fd) {
  ssize_t n = read(fd, g_buf, sizeof g_buf);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    close_conn(fd); /* EOF or reset */
    return;
  }
  ssize_t w = write(fd, g_buf, (size_t)n);
  if (w == n) return;
  if (w < 0 && errno != EAGAIN && errno != EINTR) {
    close_conn(fd);
    return;
  }
  if (w < 0) w = 0;
  keep_rest(fd, g_buf + w, (size_t)(n - w));
}

static void on_writable(int fd) {
  struct pending* p = &g_pending[fd];
  ssize_t w = write(fd, p->data + p->off, p->len - p->off);
  if (w < 0) {
    if (errno != EAGAIN && errno != EINTR) close_conn(fd);
    return;
  }
  p->off += (size_t)w;
  if (p->off < p->len) return;
  free(p->data);
  memset(p, 0, sizeof *p);
  set_events(fd, EPOLL_CTL_MOD, EPOLLIN);
}

int main(int argc, char** argv) {
  struct sockaddr_storage addr;
  socklen_t len;
  echo_parse_args(argc, argv, &addr, &len);
  echo_raise_nofile();
  signal(SIGPIPE, SIG_IGN); /* a reset client must not kill the server */

  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  g_pending_cap = lim.rlim_cur == RLIM_INFINITY ? 1 << 20 : (size_t)lim.rlim_cur;
  g_pending = calloc(g_pending_cap, sizeof *g_pending);
  g_epfd = epoll_create1(EPOLL_CLOEXEC);
  if (!g_pending || g_epfd < 0) {
    perror("raw-epoll-echo: setup");
    return 1;
  }
  int lfd = open_listener(&addr, len);
  set_events(lfd, EPOLL_CTL_ADD, EPOLLIN);

  struct epoll_event events[kMaxEvents];
  for (;;) { /* runs until killed; the benchmark driver bounds its lifetime */
    int n = epoll_wait(g_epfd, events, kMaxEvents, -1);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd)
        on_accept(lfd);
      else if (g_pending[fd].data)
        on_writable(fd);
      else
        on_readable(fd);
    }
  }
}
