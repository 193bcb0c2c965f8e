// io-uring: asynchronous IO with io_uring (liburing) — the seeds' fifth model.
//
// Model: the process does not wait for readiness and then copy; it hands whole operations to the
// kernel — "accept a connection", "receive into this buffer", "send these bytes" — as
// submission queue entries, and later reaps completions that carry the result: the new
// descriptor, or the number of bytes already copied into (or out of) our buffer. The seeds: "the
// user process starts the read and can do other things at once ... the kernel waits for the
// data, copies it to user memory, and then notifies the process: nothing blocks, from start to
// end", unlike blocking, non-blocking and multiplexed IO, which are all synchronous because the
// copy phase blocks the caller. (The seeds' kernel "signal" is the completion queue here.)
//
// Each connection has exactly one operation in flight — a recv, or a send of what that recv
// brought — so its buffer is its outbox and a short send is simply resubmitted for the rest.
// Accept is multishot (one submission, a completion per connection; Linux 5.19+), falling back
// to one accept per submission where the kernel rejects multishot.
#include <liburing.h>

#include <set>

#include "common.hpp"

using namespace iomodels;

namespace {

struct Conn {
  int fd;
  bool sending = false;  // which operation is in flight: send (of buf[off, len)) or recv
  size_t len = 0, off = 0;
  char buf[16 * 1024];
};

io_uring g_ring;
bool g_multishot = true;
std::set<Conn*> g_conns;

io_uring_sqe* get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&g_ring);
  while (sqe == nullptr) {  // submission queue full: hand what we have to the kernel first
    io_uring_submit(&g_ring);
    sqe = io_uring_get_sqe(&g_ring);
  }
  return sqe;
}

void submit_accept(int listener) {
  io_uring_sqe* sqe = get_sqe();
  if (g_multishot) {
    io_uring_prep_multishot_accept(sqe, listener, nullptr, nullptr, SOCK_CLOEXEC);
  } else {
    io_uring_prep_accept(sqe, listener, nullptr, nullptr, SOCK_CLOEXEC);
  }
  io_uring_sqe_set_data(sqe, nullptr);  // user_data 0 marks the accept
}

void submit_recv(Conn* c) {
  c->sending = false;
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_recv(sqe, c->fd, c->buf, sizeof c->buf, 0);
  io_uring_sqe_set_data(sqe, c);
}

void submit_send(Conn* c) {
  c->sending = true;
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_send(sqe, c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
  io_uring_sqe_set_data(sqe, c);
}

void finish(Conn* c) {
  close(c->fd);
  g_conns.erase(c);
  delete c;
}

void on_accept(int listener, const io_uring_cqe* cqe) {
  if (cqe->res >= 0) {
    Conn* c = new Conn;  // buf stays untouched (not resident) until data arrives
    c->fd = cqe->res;
    g_conns.insert(c);
    submit_recv(c);
  } else if (cqe->res == -EINVAL && g_multishot) {
    g_multishot = false;  // an older kernel: one accept per submission
    std::fprintf(stderr, "io-uring: multishot accept unsupported, using plain accept\n");
  }
  if (!(cqe->flags & IORING_CQE_F_MORE)) submit_accept(listener);  // the accept ended: rearm
}

void on_io(Conn* c, int res) {
  if (res <= 0) return finish(c);  // end of stream or an error (the kernel gives -errno)
  if (!c->sending) {               // recv completed: its bytes are already in c->buf
    c->len = static_cast<size_t>(res);
    c->off = 0;
    return submit_send(c);
  }
  c->off += static_cast<size_t>(res);
  if (c->off < c->len) return submit_send(c);  // partial send: submit the rest
  submit_recv(c);
}

}  // namespace

int main(int argc, char** argv) {
  install_stop_handler();
  int listener = listen_from_args(argc, argv, "io-uring");
  sigset_t wait_mask = block_stop_signals();
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE;
  params.cq_entries = 32768;  // room for a completion from every connection at once
  if (int err = io_uring_queue_init_params(4096, &g_ring, &params); err < 0) {
    std::fprintf(stderr, "io-uring: io_uring unavailable: %s\n", std::strerror(-err));
    return 3;
  }
  submit_accept(listener);
  while (!g_stop) {
    io_uring_submit(&g_ring);
    io_uring_cqe* cqe;
    // The only wait: for completions, with SIGINT/SIGTERM unblocked just for it.
    if (io_uring_wait_cqes(&g_ring, &cqe, 1, nullptr, &wait_mask) < 0) continue;  // EINTR
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&g_ring, head, cqe) {
      ++seen;
      auto* c = static_cast<Conn*>(io_uring_cqe_get_data(cqe));
      if (c == nullptr) {
        on_accept(listener, cqe);
      } else {
        on_io(c, cqe->res);
      }
    }
    io_uring_cq_advance(&g_ring, seen);
  }
  io_uring_queue_exit(&g_ring);  // cancels every operation still in flight
  for (Conn* c : g_conns) {
    close(c->fd);
    delete c;
  }
  close(listener);
  return 0;
}
