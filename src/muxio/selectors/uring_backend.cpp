// io_uring, both ways. As a proactor it performs recv, send and accept itself: the operation is
// queued in the submission ring, submitted with the loop's next wait (one system call for every
// operation and the wait), and its completion carries the result — the seeds' asynchronous IO,
// where the data is already in the buffer when the task resumes. Operations without a completion
// form (connect, sendfile) and raw Selector users get readiness:
// io_uring as a readiness backend: every registered descriptor has one multishot POLL_ADD in the
// ring, and a wait is one io_uring_submit_and_wait — no epoll_ctl, no copying of sets. Multishot
// polls post a completion for each wake-up of the descriptor (and one at arming time if it is
// ready already), so the backend is edge-triggered; POLLRDHUP is asked for, so a peer's FIN is
// announced and the readiness cache stays exact.
//
// The special problems: a poll can end on its own (a completion without IORING_CQE_F_MORE, e.g.
// when the kernel cannot keep it armed) — it is re-armed; completions of a registration that was
// removed or replaced may still arrive — each registration carries a generation in user_data and
// stale completions are dropped; the kernel may have io_uring disabled (sysctl
// kernel.io_uring_disabled, seccomp in containers) — creation fails with a clear error.
#include <liburing.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>

#include "muxio/log.hpp"
#include "selectors/backends.hpp"
#include "selectors/uring_request.hpp"

namespace muxio {
namespace {

constexpr unsigned kRingEntries = 4096;

std::uint32_t to_poll_mask(Events e) {
  std::uint32_t m = POLLRDHUP;
  if (e & kReadable) m |= POLLIN;
  if (e & kWritable) m |= POLLOUT;
  return m;
}

Events from_poll_mask(std::uint32_t m) {
  Events e = 0;
  if (m & (POLLIN | POLLPRI | POLLRDHUP)) e |= kReadable;
  if (m & POLLOUT) e |= kWritable;
  if (m & POLLERR) e |= kError;
  if (m & POLLHUP) e |= kHangup;
  if (m & POLLRDHUP) e |= kPeerClosed;
  return e;
}

class UringBackend final : public SelectorBackend, public Proactor {
 public:
  UringBackend() = default;
  ~UringBackend() override {
    if (ready_) io_uring_queue_exit(&ring_);
  }

  // The ring runs its task work only when the loop waits for completions (DEFER_TASKRUN, Linux
  // 6.1): no interrupts of the thread while it runs tasks, and completions are reaped in one batch
  // per wait. That requires one submitting thread (SINGLE_ISSUER), which becomes the thread of the
  // first wait: the ring starts disabled because loops are often built on one thread and run on
  // another. Older kernels reject the flags; they get cooperative task work, then plain setup.
  std::error_code init() {
    const unsigned attempts[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                                     IORING_SETUP_R_DISABLED | IORING_SETUP_TASKRUN_FLAG,
                                 IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, 0};
    int rc = -EINVAL;
    for (unsigned flags : attempts) {
      io_uring_params params{};
      params.flags = flags;
      rc = io_uring_queue_init_params(kRingEntries, &ring_, &params);
      if (rc != -EINVAL) {
        disabled_ = (flags & IORING_SETUP_R_DISABLED) != 0;
        break;
      }
    }
    if (rc < 0) return errno_code(-rc);
    ready_ = true;
    return {};
  }

  std::string_view name() const override { return "uring"; }
  bool edge_triggered() const override { return true; }
  bool reports_peer_closed() const override { return true; }
  Proactor* proactor() override { return this; }

  void submit(CompletionOp* op) override {
    io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) {  // no room even after flushing: the operation fails, nothing hangs
      op->on_completion(-EBUSY);
      return;
    }
    prepare_submission(sqe, op->request());
    io_uring_sqe_set_data64(sqe, op_tag(op));
    ++ops_in_flight_;
  }

  // Without room for the cancel, the operation completes on its own terms (or the ring goes).
  void cancel(CompletionOp* op) override {
    io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) return;
    io_uring_prep_cancel64(sqe, op_tag(op), 0);
    io_uring_sqe_set_data64(sqe, kIgnore);
  }

  void close(int fd) override {
    if (!abandoned_ && queued_request_names(fd)) {
      // Submitted, each request holds the file itself (the number no longer matters).
      bool submitted = !enable() && io_uring_submit(&ring_) >= 0 && !queued_request_names(fd);
      if (!submitted) {
        // Cannot submit now (the kernel refuses, or this is not the ring's thread): the close
        // joins the queue behind them, so that the number stays taken until they are submitted.
        if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) {
          io_uring_prep_close(sqe, fd);
          io_uring_sqe_set_data64(sqe, kIgnore);
          return;
        }
      }
    }
    ::close(fd);
  }

  void abandon_all() override {
    if (abandoned_ || !ready_) return;
    abandoned_ = true;  // from now on next_sqe() hands out nothing: no new request, no cancel
    // Queued requests must not start now: they become no-ops (keeping their tags, so that each
    // still completes once and the count below holds). Closes queued by close() stay closes.
    neutralize_queued();
    if (disabled_) return;                    // never enabled: nothing ever reached the kernel
    if (io_uring_submit(&ring_) < 0) return;  // not the ring's thread: it cannot wait here either
    cancel_everything();
    drain_abandoned();
  }

  std::error_code modify(int fd, Events old_events, Events new_events) override {
    if (static_cast<std::size_t>(fd) >= regs_.size()) regs_.resize(fd + 1);
    Registration& r = regs_[fd];
    if (old_events != 0) {
      // Without room, the old poll stays armed: its completions are stale by generation.
      if (io_uring_sqe* sqe = next_sqe()) {
        io_uring_prep_poll_remove(sqe, tag(fd, r.generation));
        io_uring_sqe_set_data64(sqe, kIgnore);
      }
    }
    ++r.generation;  // completions of the old registration are stale from now on
    r.events = new_events;
    if (new_events != 0) arm(fd);
    return {};
  }

  std::error_code poll(std::chrono::nanoseconds timeout, std::vector<FdEvent>& out) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    io_uring_cqe* cqe = nullptr;
    if (auto ec = enable()) return ec;
    int rc;
    if (timeout.count() < 0) {
      rc = io_uring_submit_and_wait(&ring_, 1);
    } else {
      __kernel_timespec ts{timeout.count() / 1'000'000'000, timeout.count() % 1'000'000'000};
      rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      return errno_code(-rc);
    }
    bool progressed = report_failed_arms(out);
    progressed |= reap(out);  // an event or a completed operation, not just bookkeeping
    // The kernel runs deferred task work in bounded batches: while it says more is pending (or
    // completions overflowed), fetch it now, so that one select reports everything that is ready,
    // as epoll does. Bounded, so that a flood cannot hold the loop here.
    for (int round = 0; round < 16 && work_pending(); ++round) {
      io_uring_get_events(&ring_);
      progressed |= reap(out);
    }
    // Woken with nothing to show before the time is up (a signal, task work, only bookkeeping
    // completions — liburing then returns the number submitted, not -EINTR): the Selector
    // retries with the time left.
    if (!progressed && (timeout.count() < 0 || std::chrono::steady_clock::now() < deadline)) {
      return errno_code(EINTR);
    }
    return {};
  }

 private:
  struct Registration {
    Events events = 0;
    std::uint32_t generation = 0;
  };
  static constexpr std::uint64_t kIgnore = ~std::uint64_t{0};

  // user_data: operations are pointers with the low bit set (they are at least 2-aligned);
  // poll registrations are generation << 32 | fd << 1, low bit clear.
  static std::uint64_t tag(int fd, std::uint32_t generation) {
    return (std::uint64_t{generation} << 32) | (static_cast<std::uint64_t>(fd) << 1);
  }
  static std::uint64_t op_tag(CompletionOp* op) { return reinterpret_cast<std::uint64_t>(op) | 1; }

  // nullptr when the queue is full and cannot be flushed (the kernel refuses the submission, or
  // a thread other than the loop's submits: SINGLE_ISSUER; e.g. a loop destroyed elsewhere).
  io_uring_sqe* next_sqe() {
    if (abandoned_) return nullptr;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr && !enable()) {  // the submission queue is full: hand it to the kernel
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  // The requests in the submission queue that the kernel has not taken yet, in order.
  template <class F>
  void for_each_queued(F&& f) {
    unsigned head = IO_URING_READ_ONCE(*ring_.sq.khead);
    for (unsigned i = head; i != ring_.sq.sqe_tail; ++i)
      f(ring_.sq.sqes[i & ring_.sq.ring_mask]);
  }

  bool queued_request_names(int fd) {
    bool named = false;
    for_each_queued([&](const io_uring_sqe& sqe) {
      if (sqe.fd == fd) named = true;
      bool splice = sqe.opcode == IORING_OP_SPLICE || sqe.opcode == IORING_OP_TEE;
      if (splice && sqe.splice_fd_in == fd) named = true;
    });
    return named;
  }

  void neutralize_queued() {
    for_each_queued([](io_uring_sqe& sqe) {
      if (sqe.opcode == IORING_OP_CLOSE) return;
      std::uint64_t data = sqe.user_data;
      io_uring_prep_nop(&sqe);
      sqe.user_data = data;
    });
  }

  // Synchronous cancellation of every request (Linux 6.0): returns when the kernel is done with
  // each, including those its workers were running. Older kernels get the asynchronous form, and
  // drain_abandoned() waits for its answers.
  void cancel_everything() {
    io_uring_sync_cancel_reg reg{};
    reg.fd = -1;
    reg.flags = IORING_ASYNC_CANCEL_ANY;
    reg.timeout.tv_sec = -1;
    reg.timeout.tv_nsec = -1;
    int rc = io_uring_register_sync_cancel(&ring_, &reg);
    if (rc >= 0 || rc == -ENOENT) return;
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) {
      io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data64(sqe, kIgnore);
      io_uring_submit(&ring_);
    }
  }

  // Reaps the completions of the cancelled operations without handing them to anyone (their
  // coroutines are about to be destroyed). Bounded: a kernel that never answers does not hang the
  // loop's destruction for ever, but that is then reported.
  void drain_abandoned() {
    for (int round = 0; ops_in_flight_ > 0 && round < 100; ++round) {
      __kernel_timespec ts{0, 100'000'000};
      io_uring_cqe* cqe = nullptr;
      int rc = io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
      if (rc < 0 && rc != -ETIME && rc != -EINTR) break;
      unsigned head;
      unsigned seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        std::uint64_t data = io_uring_cqe_get_data64(cqe);
        if (data != kIgnore && (data & 1) && ops_in_flight_ > 0) --ops_in_flight_;
      }
      io_uring_cq_advance(&ring_, seen);
    }
    if (ops_in_flight_ > 0) {
      log_message(LogLevel::warning, std::to_string(ops_in_flight_) +
                                         " io_uring operation(s) still in the kernel at teardown");
    }
  }

  // Hands every completion in the queue to handle(); true if one meant something.
  bool reap(std::vector<FdEvent>& out) {
    io_uring_cqe* cqe = nullptr;
    unsigned head;
    unsigned seen = 0;
    bool progressed = false;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      progressed |= handle(*cqe, out);
    }
    io_uring_cq_advance(&ring_, seen);
    return progressed;
  }

  bool work_pending() const {
    return (IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) !=
           0;
  }

  // Enabling makes the calling thread the ring's only submitter (see init).
  std::error_code enable() {
    if (!disabled_) return {};
    // liburing 2.3 (Debian 12) has no io_uring_enable_rings: the register call itself.
    if (::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) <
        0) {
      return errno_code(errno);
    }
    disabled_ = false;
    return {};
  }

  bool report_failed_arms(std::vector<FdEvent>& out) {
    bool any = false;
    for (int fd : failed_arms_) {
      if (static_cast<std::size_t>(fd) >= regs_.size() || regs_[fd].events == 0) continue;
      out.push_back(FdEvent{fd, kError});
      any = true;
    }
    failed_arms_.clear();
    return any;
  }

  void arm(int fd) {
    io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) {
      failed_arms_.push_back(fd);  // the next wait reports an error for it: the owner finds out
      return;
    }
    io_uring_prep_poll_multishot(sqe, fd, to_poll_mask(regs_[fd].events));
    io_uring_sqe_set_data64(sqe, tag(fd, regs_[fd].generation));
  }

  // True when the completion meant something: an event reported or an operation completed.
  bool handle(const io_uring_cqe& cqe, std::vector<FdEvent>& out) {
    std::uint64_t data = io_uring_cqe_get_data64(&cqe);
    if (data == kIgnore) return false;
    if (data & 1) {
      --ops_in_flight_;
      reinterpret_cast<CompletionOp*>(data & ~std::uint64_t{1})->on_completion(cqe.res);
      return true;
    }
    int fd = static_cast<int>((data & 0xffffffffu) >> 1);
    auto generation = static_cast<std::uint32_t>(data >> 32);
    if (fd < 0 || static_cast<std::size_t>(fd) >= regs_.size()) return false;
    Registration& r = regs_[fd];
    if (r.generation != generation || r.events == 0) return false;  // removed or replaced
    if (cqe.res < 0) {
      if (cqe.res == -ECANCELED) return false;
      out.push_back(FdEvent{fd, kError});  // EBADF and friends: let the owner find out
    } else {
      out.push_back(FdEvent{fd, from_poll_mask(static_cast<std::uint32_t>(cqe.res))});
    }
    if (!(cqe.flags & IORING_CQE_F_MORE) && cqe.res >= 0) arm(fd);  // the poll ended: re-arm
    return true;
  }

  io_uring ring_{};
  bool ready_ = false;
  bool disabled_ = false;
  bool abandoned_ = false;
  std::size_t ops_in_flight_ = 0;  // operations submitted whose completion has not come yet
  std::vector<Registration> regs_;
  std::vector<int> failed_arms_;
};

}  // namespace

Result<std::unique_ptr<SelectorBackend>> make_uring_backend() {
  auto backend = std::make_unique<UringBackend>();
  if (auto ec = backend->init()) return make_error_code(Error::backend_unavailable);
  return std::unique_ptr<SelectorBackend>(std::move(backend));
}

}  // namespace muxio
