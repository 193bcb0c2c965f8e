// ftp-load's own event loop: one edge-triggered epoll per thread and a minimal coroutine Task,
// so that each simulated FTP client reads top to bottom.
//
// It is independent of muxio on purpose: ftp-load measures FTP servers, muxftpd among them, and
// must not share muxftpd's loop (its costs or its bugs). Discipline that makes edge triggering
// safe: an operation is always tried first, and a coroutine waits for readiness only after the
// kernel said EAGAIN; a descriptor's edges that arrive while nobody waits are not needed.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ftp_load {

using Nanos = std::int64_t;
Nanos now_ns();

// Why a client's operation failed: the text is the reason counted in the summary, so it is short
// and has few distinct values ("USER: 421", "timeout: RETR data", "connect: ECONNREFUSED").
class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename T>
class Task;

namespace detail {

struct PromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return h.promise().continuation;
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() { error = std::current_exception(); }
};

template <typename T>
struct Promise : PromiseBase {
  T value{};
  Task<T> get_return_object();
  void return_value(T v) { value = std::move(v); }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object();
  void return_void() {}
};

}  // namespace detail

// A lazy coroutine: runs when awaited (or started by Reactor::spawn), resumes its awaiter when
// done, and rethrows what it threw.
template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  explicit Task(Handle h) : handle_(h) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    handle_.promise().continuation = awaiter;
    return handle_;
  }
  T await_resume() {
    if (handle_.promise().error) std::rethrow_exception(handle_.promise().error);
    if constexpr (!std::is_void_v<T>) return std::move(handle_.promise().value);
  }

  Handle handle() const { return handle_; }

 private:
  Handle handle_;
};

namespace detail {
template <typename T>
Task<T> Promise<T>::get_return_object() {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

class Reactor {
 public:
  explicit Reactor(const std::atomic<bool>& gate_flag);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  void add(int fd);     // watched for input and output, edge-triggered
  void remove(int fd);  // before close(fd)

  // Resumes the caller once fd is readable (or writable), or at `deadline`: then `timed_out()`.
  struct Wait {
    Reactor& reactor;
    int fd;
    bool write;
    Nanos deadline;
    std::coroutine_handle<> waiter{};
    bool timed_out = false;

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h);
    bool await_resume() const noexcept { return !timed_out; }  // false: the deadline passed
  };
  Wait readable(int fd, Nanos deadline) { return Wait{*this, fd, false, deadline}; }
  Wait writable(int fd, Nanos deadline) { return Wait{*this, fd, true, deadline}; }

  // Resumes the caller at `when`.
  struct Sleep {
    Reactor& reactor;
    Nanos when;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h);
    void await_resume() const noexcept {}
  };
  Sleep sleep_until(Nanos when) { return Sleep{*this, when}; }

  // Resumes the caller once the gate flag given to the constructor is set by another thread
  // (looked at every few ms): the start of the measurement, for clients that logged in first.
  struct Gate {
    Reactor& reactor;
    bool await_ready() const noexcept { return reactor.gate_flag_->load(); }
    void await_suspend(std::coroutine_handle<> h) { reactor.gated_.push_back(h); }
    void await_resume() const noexcept {}
  };
  Gate gate() { return Gate{*this}; }

  // Starts a top-level task; the reactor keeps it until run() returns.
  void spawn(Task<void> task);
  // Runs until every spawned task has finished.
  void run();

 private:
  struct Slot {
    Wait* reader = nullptr;
    Wait* writer = nullptr;
  };
  void dispatch(int fd, std::uint32_t events);
  void expire(Nanos now);
  bool all_done() const;
  void poll_once(int timeout_ms);
  Slot& slot(int fd);

  int epoll_fd_ = -1;
  std::vector<Slot> slots_;
  std::vector<std::pair<Nanos, std::coroutine_handle<>>> sleepers_;
  std::vector<Task<void>> tasks_;
  std::vector<std::coroutine_handle<>> gated_;
  const std::atomic<bool>* gate_flag_;
};

}  // namespace ftp_load
