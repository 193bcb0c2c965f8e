// IoHandle: one descriptor's registration with its loop's selector, and the (at most one)
// operation waiting on each direction. Owned by a stream; loop thread only.
//
// Operations are speculative: they try the system call first and wait only on EAGAIN (asyncio's
// sock_recv, asio's reactor ops). The handle caches readiness per direction: a read that returned
// less than asked drained the socket, so the next read waits first instead of paying a syscall
// for a sure EAGAIN (Tokio does the same). Readiness is armed lazily: on level-triggered backends
// interest stays registered after a wait (no epoll_ctl per message) and is dropped only when an
// event arrives that nobody waits for; on edge-triggered backends both directions are registered
// once and never changed.
#pragma once

#include <coroutine>
#include <system_error>

#include "muxio/event_loop.hpp"

namespace muxio {

enum class Direction { read = 0, write = 1 };

// An operation waiting for readiness. perform() is the system call: true when the operation is
// complete (with a result or an error), false when it hit EAGAIN and must wait again.
class IoOperation : public Cancellable {
 public:
  virtual bool perform() = 0;
  // The handle calls this once perform() completed the operation during dispatch.
  virtual void complete() = 0;
  // The handle is going away: complete with `reason` and never touch the handle again.
  virtual void detach(std::error_code reason) { interrupt(reason); }

 protected:
  ~IoOperation() = default;
};

class IoHandle final : public IoWatcher {
 public:
  IoHandle(EventLoop& loop, int fd);
  // Interrupts waiting operations with ECANCELED and unregisters. Does not close the fd.
  ~IoHandle();
  IoHandle(const IoHandle&) = delete;
  IoHandle& operator=(const IoHandle&) = delete;

  int fd() const { return fd_; }
  EventLoop& loop() const { return *loop_; }

  bool ready(Direction d) const { return ready_[index(d)]; }
  Proactor* proactor() const { return proactor_; }
  // A completion operation in flight, so that closing the handle can cancel it.
  void track(Direction d, IoOperation* op) { waiter_[index(d)] = op; }
  void clear_ready(Direction d) { ready_[index(d)] = false; }
  // A read returned less than asked. On level-triggered backends, and on edge-triggered ones that
  // announce a peer's FIN, that proves the buffer drained; on the others (sigio) a FIN that came
  // with the data may have been announced already, so the next read must try the syscall.
  void note_short_read() {
    if (short_read_drains_ && !peer_closed_) ready_[0] = false;
  }

  // Parks op until the direction is ready; fails if the selector refuses the descriptor.
  std::error_code wait(Direction d, IoOperation* op);
  void cancel_wait(Direction d, IoOperation* op);
  // The descriptor changed in a way not every backend reports (shutdown(2) raises no SIGIO):
  // waiting operations try their system call again. Operations on a ring need nothing: the
  // kernel completes them itself.
  void recheck();

  void on_events(Events ready) override;

 private:
  static int index(Direction d) { return static_cast<int>(d); }
  static Events event_of(Direction d) { return d == Direction::read ? kReadable : kWritable; }
  void wake(Direction d);
  std::error_code set_interest(Events events);

  EventLoop* loop_;
  int fd_;
  bool edge_;
  bool short_read_drains_;
  bool peer_closed_ = false;
  Events armed_ = 0;
  bool ready_[2] = {true, true};
  IoOperation* waiter_[2] = {nullptr, nullptr};
  Proactor* proactor_;
};

// Closes the descriptor of a handle that was just destroyed: through the proactor when there is
// one (Proactor::close: no request still queued for the number may reach its next owner).
void close_descriptor(Proactor* proactor, int fd);

// The coroutine side shared by every operation: check cancellation, then either hand the
// operation to the backend's proactor (when Derived is a CompletionOp and the backend has one), or
// try the system call and park until the direction is ready. Derived provides perform() and
// fail(error_code), and for the completion path request() and on_completion(), which calls
// finish_completion() when done or resubmit() to continue (a partial send).
template <class Derived>
class IoAwaitable : public IoOperation {
 public:
  IoAwaitable(IoHandle* io, Direction d) : io_(io), dir_(d) {}
  IoAwaitable(const IoAwaitable&) = delete;
  IoAwaitable& operator=(const IoAwaitable&) = delete;
  // Destroying an operation the kernel still works on happens only when a loop is destroyed with
  // tasks suspended in it, and the loop has the proactor abandon every request first.
  ~IoAwaitable() {
    if (parked_ && io_ != nullptr) io_->cancel_wait(dir_, this);
  }

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    ctx_ = context_of(h);
    if (io_ == nullptr) return fail_now(errno_code(EBADF));
    io_->loop().assert_in_loop_thread("an IO operation (ring submission or readiness wait)");
    if (auto ec = ctx_->stop_reason()) return fail_now(ec);
    if constexpr (std::is_base_of_v<CompletionOp, Derived>) {
      if (Proactor* p = io_->proactor()) {
        proactor_ = p;
        parked_ = true;
        in_flight_ = true;
        waiting_ = h;
        ctx_->pending = this;
        io_->track(dir_, this);
        p->submit(&self());
        return true;
      }
    }
    if (io_->ready(dir_) && self().perform()) return false;
    if (auto ec = io_->wait(dir_, this)) return fail_now(ec);
    parked_ = true;
    waiting_ = h;
    ctx_->pending = this;
    return true;
  }

  void complete() override {
    parked_ = false;
    if (ctx_->pending == this) ctx_->pending = nullptr;
    ctx_->loop->resume_soon(waiting_);
  }

  void interrupt(std::error_code reason) override {
    if (in_flight_) {
      cancel_in_flight(reason);
      return;
    }
    io_->cancel_wait(dir_, this);
    self().fail(reason);
    complete();
  }

  void detach(std::error_code reason) override {
    if (in_flight_) {
      io_->cancel_wait(dir_, this);
      io_ = nullptr;  // the handle is going away; the kernel's answer still comes
      cancel_in_flight(reason);
      return;
    }
    interrupt(reason);
  }

 protected:
  // The kernel answered and the operation is done: a result that won the race against a
  // cancellation is kept (no bytes are lost); otherwise the cancellation's reason is reported.
  void finish_completion(bool has_result) {
    in_flight_ = false;
    if (io_ != nullptr) io_->cancel_wait(dir_, this);
    if (interrupted_ && !has_result) self().fail(interrupted_);
    complete();
  }
  // Continue (a partial send): false if the operation was cancelled meanwhile.
  bool resubmit() {
    if (interrupted_ || io_ == nullptr) return false;
    if constexpr (std::is_base_of_v<CompletionOp, Derived>) proactor_->submit(&self());
    return true;
  }

  IoHandle* io_;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  bool fail_now(std::error_code ec) {
    self().fail(ec);
    return false;
  }
  void cancel_in_flight(std::error_code reason) {
    if constexpr (std::is_base_of_v<CompletionOp, Derived>) {
      if (interrupted_) return;
      interrupted_ = reason;
      proactor_->cancel(&self());
    }
  }

  Direction dir_;
  bool parked_ = false;
  bool in_flight_ = false;
  std::error_code interrupted_;
  Proactor* proactor_ = nullptr;
  TaskContext* ctx_ = nullptr;
  std::coroutine_handle<> waiting_;
};

}  // namespace muxio
