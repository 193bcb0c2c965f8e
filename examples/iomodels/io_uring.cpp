// io-uring: asynchronous IO with io_uring (liburing) — the seeds' fifth model.
//
// Model: the process does not wait for readiness and then copy; it hands whole operations to the
// kernel — "accept connections", "receive whatever arrives", "send these bytes" — as submission
// queue entries, and later reaps completions that carry the result: the new descriptor, or the
// number of bytes already copied into (or out of) user memory. The seeds: "the user process
// starts the read and can do other things at once ... the kernel waits for the data, copies it to
// user memory, and then notifies the process: nothing blocks, from start to end", unlike
// blocking, non-blocking and multiplexed IO, which are all synchronous because the copy phase
// blocks the caller. (The seeds' kernel "signal" is the completion queue here.)
//
// io_uring at its best, rather than "epoll with extra steps":
// - Multishot accept and multishot recv: one submission per connection, not one per message. A
//   single-shot recv on an empty socket fails with EAGAIN inside the kernel, arms a poll, and
//   retries from task work when data comes; a multishot recv stays armed and posts a completion
//   for every arrival.
// - Provided buffers (a buffer ring shared with the kernel): the kernel picks a free buffer when
//   data actually arrives, so an idle connection holds no buffer and the memory is one fixed
//   pool, not a buffer per connection. The echo is sent from that buffer, which goes back to the
//   ring once the send completes.
// - IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN: completion work runs only when the loop asks for
//   completions, in the one system call that also submits (no interrupting task work).
// Per connection the received buffers queue up in order and one send is in flight at a time; a
// short send is resubmitted for the rest. A client that sends but does not read stops being read
// once kMaxQueued buffers of its echo wait (its recv is cancelled, and re-armed when the queue
// drains), so it cannot take the shared pool from the others. Older kernels fall back, with a
// message: one recv per submission (multishot recv: Linux 6.0), IORING_OP_PROVIDE_BUFFERS instead
// of a buffer ring (5.19), one accept per submission (multishot accept: 5.19).
#include <liburing.h>
#include <sys/mman.h>

#include <set>
#include <vector>

#include "common.hpp"

using namespace iomodels;

namespace {

// A buffer is held from its recv until its echo is sent: 8,192 (a power of two, as rings need)
// let every one of the lab's 5,000 ping-pong connections hold one at once. A page each, 32 MiB
// in all: untouched pages are not resident, but the ring hands buffers out in turn, so under
// steady load the whole pool is.
constexpr unsigned kBufs = 8192;
constexpr unsigned kBufSize = 4096;
constexpr size_t kMaxQueued = 16;  // buffers waiting to be echoed before a recv pauses
constexpr uint16_t kGroup = 0;     // the buffer group the recvs select from
constexpr uint64_t kAccept = 0;    // user_data of the accept; connections: Conn* | Op
constexpr uint64_t kIgnore = 1;    // user_data of requests whose completion needs no action
enum Op : uint64_t { kRecv = 0, kSend = 1 };  // in the low bits of an (aligned) Conn*

struct Chunk {  // a received buffer waiting to be echoed: bytes [off, len) are still to send
  uint16_t bid;
  uint32_t len, off;
};

struct Conn {
  int fd;
  bool receiving = false;  // a recv is in flight (multishot: until a completion without F_MORE)
  bool sending = false;    // a send of queue.front() is in flight
  bool starved = false;    // its recv ended with ENOBUFS: re-armed when a buffer comes back
  bool eof = false;        // the peer closed (or the recv failed): echo what is queued, then close
  bool broken = false;     // a send failed: drop what is queued, then close
  std::vector<Chunk> queue;
};

io_uring g_ring;
io_uring_buf_ring* g_buf_ring = nullptr;  // null: buffers are provided by IORING_OP_PROVIDE_BUFFERS
bool g_multishot_accept = true, g_multishot_recv = true;
char (*g_bufs)[kBufSize];  // kBufs buffers, indexed by buffer id
std::set<Conn*> g_conns;
std::vector<Conn*> g_starved;

io_uring_sqe* get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&g_ring);
  while (sqe == nullptr) {  // submission queue full: hand what we have to the kernel first
    io_uring_submit(&g_ring);
    sqe = io_uring_get_sqe(&g_ring);
  }
  return sqe;
}

uint64_t tag(Conn* c, Op op) {
  return reinterpret_cast<uint64_t>(c) | op;
}

// --- requests -------------------------------------------------------------------------------

void submit_accept(int listener) {
  io_uring_sqe* sqe = get_sqe();
  if (g_multishot_accept) {
    io_uring_prep_multishot_accept(sqe, listener, nullptr, nullptr, SOCK_CLOEXEC);
  } else {
    io_uring_prep_accept(sqe, listener, nullptr, nullptr, SOCK_CLOEXEC);
  }
  io_uring_sqe_set_data64(sqe, kAccept);
}

// Arms a recv that takes its buffer from the pool, unless one is armed already, the connection
// is closing, waits for buffers, or has enough echo queued (then the send completions re-arm it).
void arm_recv(Conn* c) {
  if (c->receiving || c->starved || c->eof || c->broken || c->queue.size() >= kMaxQueued) return;
  c->receiving = true;
  io_uring_sqe* sqe = get_sqe();
  if (g_multishot_recv) {
    io_uring_prep_recv_multishot(sqe, c->fd, nullptr, 0, 0);
  } else {
    io_uring_prep_recv(sqe, c->fd, nullptr, kBufSize, 0);
  }
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kGroup;
  io_uring_sqe_set_data64(sqe, tag(c, kRecv));
}

// Ends c's recv early; it completes with -ECANCELED (and no F_MORE) once cancelled.
void cancel_recv(Conn* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_cancel64(sqe, tag(c, kRecv), 0);
  io_uring_sqe_set_data64(sqe, kIgnore);
}

void submit_send(Conn* c) {
  c->sending = true;
  const Chunk& ch = c->queue.front();
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_send(sqe, c->fd, g_bufs[ch.bid] + ch.off, ch.len - ch.off, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, tag(c, kSend));
}

// --- the buffer pool ------------------------------------------------------------------------

// Returns buffer bid to the kernel: a store into the shared ring, no system call (or a
// PROVIDE_BUFFERS request on kernels without buffer rings); starved recvs can run again.
void give_back(uint16_t bid) {
  if (g_buf_ring != nullptr) {
    io_uring_buf_ring_add(g_buf_ring, g_bufs[bid], kBufSize, bid, io_uring_buf_ring_mask(kBufs), 0);
    io_uring_buf_ring_advance(g_buf_ring, 1);
  } else {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_provide_buffers(sqe, g_bufs[bid], kBufSize, 1, kGroup, bid);
    io_uring_sqe_set_data64(sqe, kIgnore);
  }
  for (Conn* c : g_starved) {
    c->starved = false;
    arm_recv(c);
  }
  g_starved.clear();
}

// Allocates the buffers (untouched, so not resident until used) and gives them all to the
// kernel. liburing 2.4 wraps the ring part as io_uring_setup_buf_ring(); 2.3 needs it spelled out.
void setup_buffers() {
  void* mem = mmap(nullptr, size_t{kBufs} * kBufSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) die("mmap");
  g_bufs = static_cast<char(*)[kBufSize]>(mem);
  void* ring = mmap(nullptr, kBufs * sizeof(io_uring_buf), PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ring == MAP_FAILED) die("mmap");
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(ring);
  reg.ring_entries = kBufs;
  reg.bgid = kGroup;
  if (int err = io_uring_register_buf_ring(&g_ring, &reg, 0); err == 0) {
    g_buf_ring = static_cast<io_uring_buf_ring*>(ring);
    io_uring_buf_ring_init(g_buf_ring);
    for (unsigned bid = 0; bid < kBufs; ++bid) {
      io_uring_buf_ring_add(g_buf_ring, g_bufs[bid], kBufSize, bid, io_uring_buf_ring_mask(kBufs),
                            static_cast<int>(bid));
    }
    io_uring_buf_ring_advance(g_buf_ring, kBufs);
  } else {
    std::fprintf(stderr,
                 "io-uring: buffer rings unsupported (%s; Linux < 5.19), providing "
                 "buffers with IORING_OP_PROVIDE_BUFFERS\n",
                 std::strerror(-err));
    munmap(ring, kBufs * sizeof(io_uring_buf));
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_provide_buffers(sqe, g_bufs, kBufSize, kBufs, kGroup, 0);
    io_uring_sqe_set_data64(sqe, kIgnore);
  }
}

// Closes c once the kernel holds no request of it: freeing it earlier would leave a completion
// pointing at freed memory, and a buffer in use by a send.
void finish_if_done(Conn* c) {
  if (!(c->eof || c->broken) || c->receiving || c->sending || !c->queue.empty()) return;
  if (c->starved) std::erase(g_starved, c);
  close(c->fd);
  g_conns.erase(c);
  delete c;
}

// --- completions ----------------------------------------------------------------------------

void on_accept(int listener, const io_uring_cqe* cqe) {
  if (cqe->res >= 0) {
    Conn* c = new Conn;  // no buffer yet: the kernel picks one when data arrives
    c->fd = cqe->res;
    g_conns.insert(c);
    arm_recv(c);
  } else if (cqe->res == -EINVAL && g_multishot_accept) {
    g_multishot_accept = false;  // an older kernel: one accept per submission
    std::fprintf(stderr, "io-uring: multishot accept unsupported, using plain accept\n");
  }
  if (!(cqe->flags & IORING_CQE_F_MORE)) submit_accept(listener);  // the accept ended: re-arm
}

void on_recv(Conn* c, const io_uring_cqe* cqe) {
  bool ended = !(cqe->flags & IORING_CQE_F_MORE);
  if (ended) c->receiving = false;
  if (cqe->res > 0) {  // the bytes are already in the buffer the kernel picked
    auto bid = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    if (c->broken) {
      give_back(bid);
    } else {
      c->queue.push_back({bid, static_cast<uint32_t>(cqe->res), 0});
      if (!c->sending) submit_send(c);
      if (c->receiving && c->queue.size() == kMaxQueued) cancel_recv(c);  // pause reading
    }
  } else if (cqe->res == -ENOBUFS) {  // the pool is empty: wait for a send to return a buffer
    c->starved = true;
    g_starved.push_back(c);
  } else if (cqe->res == -EINVAL && g_multishot_recv) {
    g_multishot_recv = false;
    std::fprintf(stderr,
                 "io-uring: multishot recv unsupported (Linux < 6.0), using one recv "
                 "per submission\n");
  } else if (cqe->res != -ECANCELED) {  // 0: the peer closed; < 0: an error (-errno)
    c->eof = true;
  }
  if (ended) arm_recv(c);  // unless closing, starved or paused (a full CQ can end it too)
  finish_if_done(c);
}

void on_send(Conn* c, int res) {
  c->sending = false;
  if (res <= 0) {  // the peer is gone: drop the echo, and end the recv so c can be freed
    c->broken = true;
    for (const Chunk& ch : c->queue) {
      give_back(ch.bid);
    }
    c->queue.clear();
    if (c->receiving) cancel_recv(c);
    return finish_if_done(c);
  }
  Chunk& ch = c->queue.front();
  ch.off += static_cast<uint32_t>(res);
  if (ch.off == ch.len) {  // all of it went out: the buffer is free again
    give_back(ch.bid);
    c->queue.erase(c->queue.begin());
  }
  if (!c->queue.empty()) submit_send(c);  // the rest of a short send, or the next buffer
  arm_recv(c);                            // reading resumes if it was paused
  finish_if_done(c);
}

void on_completion(int listener, const io_uring_cqe* cqe) {
  uint64_t data = io_uring_cqe_get_data64(cqe);
  auto* c = reinterpret_cast<Conn*>(data & ~uint64_t{1});
  if (data == kAccept) {
    on_accept(listener, cqe);
  } else if (data == kIgnore) {
    // a cancel, or buffers provided: nothing to do
  } else if ((data & 1) == kRecv) {
    on_recv(c, cqe);
  } else {
    on_send(c, cqe->res);
  }
}

// Tries the fastest ring setup first: each flag is refused with EINVAL by older kernels.
int setup_ring() {
  const unsigned tries[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,  // 6.1
                            IORING_SETUP_COOP_TASKRUN, 0};                            // 5.19
  int err = 0;
  for (unsigned flags : tries) {
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE | flags;
    params.cq_entries = 32768;  // room for a completion from every connection at once
    err = io_uring_queue_init_params(4096, &g_ring, &params);
    if (err != -EINVAL) break;
  }
  return err;
}

}  // namespace

int main(int argc, char** argv) {
  install_stop_handler();
  int listener = listen_from_args(argc, argv, "io-uring");
  sigset_t wait_mask = block_stop_signals();
  if (int err = setup_ring(); err < 0) {
    std::fprintf(stderr, "io-uring: io_uring unavailable: %s\n", std::strerror(-err));
    return 3;
  }
  io_uring_register_ring_fd(&g_ring);  // spares a descriptor lookup per io_uring_enter (5.18+)
  setup_buffers();
  submit_accept(listener);
  while (!g_stop) {
    io_uring_cqe* cqe;
    // One system call submits what the last batch queued and waits for a completion, with
    // SIGINT/SIGTERM unblocked only inside it (an EINTR just ends the wait); with DEFER_TASKRUN
    // this is also where the kernel runs the deferred completion work.
    io_uring_submit_and_wait_timeout(&g_ring, &cqe, 1, nullptr, &wait_mask);
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&g_ring, head, cqe) {
      ++seen;
      on_completion(listener, cqe);
    }
    io_uring_cq_advance(&g_ring, seen);
  }
  io_uring_queue_exit(&g_ring);  // cancels every request still in flight
  for (Conn* c : g_conns) {
    close(c->fd);
    delete c;
  }
  close(listener);
  return 0;
}
