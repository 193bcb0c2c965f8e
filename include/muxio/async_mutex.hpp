// AsyncMutex: mutual exclusion between tasks of one loop, e.g. two tasks replying on one control
// connection. Waiters queue in FIFO order and suspend instead of blocking the thread; a waiter
// can be cancelled. Loop thread only (it is not a thread mutex).
#pragma once

#include <coroutine>
#include <utility>
#include <vector>

#include "muxio/event_loop.hpp"

namespace muxio {

class AsyncMutex {
 public:
  class Guard {
   public:
    Guard() = default;
    explicit Guard(AsyncMutex* m) : m_(m) {}
    Guard(Guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    Guard& operator=(Guard&& o) noexcept {
      if (this != &o) {
        release();
        m_ = std::exchange(o.m_, nullptr);
      }
      return *this;
    }
    ~Guard() { release(); }
    explicit operator bool() const { return m_ != nullptr; }
    void release() {
      if (m_ != nullptr) std::exchange(m_, nullptr)->unlock();
    }

   private:
    AsyncMutex* m_ = nullptr;
  };

  class LockAwaiter final : public Cancellable {
   public:
    explicit LockAwaiter(AsyncMutex& m) : m_(m) {}
    LockAwaiter(const LockAwaiter&) = delete;
    LockAwaiter& operator=(const LockAwaiter&) = delete;
    ~LockAwaiter() {
      if (queued_) std::erase(m_.waiters_, this);
    }
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      ctx_ = context_of(h);
      if ((error_ = ctx_->stop_reason())) return false;
      if (!m_.locked_) {
        m_.locked_ = true;
        return false;
      }
      waiting_ = h;
      queued_ = true;
      m_.waiters_.push_back(this);
      ctx_->pending = this;
      return true;
    }
    // An empty guard means the task was cancelled (or timed out) before it got the lock.
    Guard await_resume() { return error_ ? Guard() : Guard(&m_); }

    void interrupt(std::error_code reason) override {
      std::erase(m_.waiters_, this);
      queued_ = false;
      error_ = reason;
      ctx_->loop->resume_soon(waiting_);
    }
    // Ownership handed over by unlock().
    void grant() {
      queued_ = false;
      if (ctx_->pending == this) ctx_->pending = nullptr;
      ctx_->loop->resume_soon(waiting_);
    }

   private:
    AsyncMutex& m_;
    TaskContext* ctx_ = nullptr;
    std::coroutine_handle<> waiting_;
    std::error_code error_;
    bool queued_ = false;
  };

  // auto guard = co_await mutex.lock(); if (!guard) -> cancelled.
  LockAwaiter lock() { return LockAwaiter(*this); }
  bool locked() const { return locked_; }

 private:
  void unlock() {
    if (waiters_.empty()) {
      locked_ = false;
      return;
    }
    LockAwaiter* next = waiters_.front();
    waiters_.erase(waiters_.begin());  // waiters are few: a reply or two
    next->grant();                     // stays locked: ownership passes straight to the next waiter
  }

  bool locked_ = false;
  std::vector<LockAwaiter*> waiters_;  // FIFO; a vector, since an idle mutex must cost nothing
};

}  // namespace muxio
