// Task<T>: a lazily started coroutine that produces a T, awaited with `co_await`.
//
// A Task owns its coroutine frame (move-only; destroying the Task destroys the frame). It starts
// when it is awaited, or when it is spawned on a loop (EventLoop::spawn). An awaited task runs
// at once on the awaiter's stack; if it finishes without suspending, the awaiter simply goes on
// (no transfer at all), and if it suspends, it resumes the awaiter when it finishes (symmetric
// transfer). So a loop of awaits that complete at once never grows the stack — which symmetric
// transfer alone does not guarantee where the compiler makes no tail call (g++ at -O0 or under
// ASan). An exception escaping the coroutine is rethrown at the co_await.
// The awaiting coroutine must be a Task too: the child inherits its TaskContext.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "muxio/task_context.hpp"

namespace muxio {

namespace detail {

struct PromiseBase {
  TaskContext* context = nullptr;
  std::coroutine_handle<> continuation;  // who awaits us; empty for a root task
  std::exception_ptr exception;
  void (*on_root_done)(void*) = nullptr;  // set by EventLoop::spawn for the root coroutine
  void* root = nullptr;
  bool running_inline = false;  // the awaiter is below us on the stack, in Task::await_suspend

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      PromiseBase& p = h.promise();
      if (p.running_inline) return std::noop_coroutine();  // back to Task::await_suspend
      if (p.continuation) return p.continuation;
      if (p.on_root_done != nullptr) p.on_root_done(p.root);
      return std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };

  std::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { exception = std::current_exception(); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (exception) std::rethrow_exception(exception);
    return std::move(*value);
  }
};

template <>
struct Promise<void> : PromiseBase {
  void return_void() noexcept {}
  void take() {
    if (exception) std::rethrow_exception(exception);
  }
};

}  // namespace detail

template <class T = void>
class [[nodiscard]] Task {
 public:
  struct promise_type : detail::Promise<T> {
    Task get_return_object() noexcept {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
  };
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~Task() { reset(); }

  bool valid() const { return static_cast<bool>(h_); }
  bool done() const { return h_ && h_.done(); }
  Handle handle() const { return h_; }
  void reset() {
    if (h_) std::exchange(h_, {}).destroy();
  }

  // Awaiting: the child runs in the parent's context, at once; false (the parent goes on) when
  // it finished without suspending.
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> parent) noexcept {
    static_assert(std::is_base_of_v<detail::PromiseBase, P>,
                  "a muxio::Task can only be awaited from another muxio::Task");
    auto& p = h_.promise();
    p.continuation = parent;
    p.context = parent.promise().context;
    p.running_inline = true;
    h_.resume();
    if (h_.done()) return false;
    p.running_inline = false;  // it suspended: it resumes the parent when it finishes
    return true;
  }
  T await_resume() { return h_.promise().take(); }

  // Result of a finished task (rethrows its exception).
  T take_result() { return h_.promise().take(); }

 private:
  Handle h_;
};

// Awaiters that need the task context of the coroutine awaiting them.
template <class P>
TaskContext* context_of(std::coroutine_handle<P> h) {
  static_assert(std::is_base_of_v<detail::PromiseBase, P>,
                "muxio operations must be awaited from a muxio::Task");
  return h.promise().context;
}

}  // namespace muxio
