// offload_to(pool, fn): offload() (muxio/thread_pool.hpp) onto a pool of one's own rather than
// the loop's. For work that may wait long — a database that does not answer — and so must not
// hold up the loop's pool, which every session's disk calls share. fn must capture by reference
// (see offload()); it runs to its end even if the awaiting task is cancelled.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>

#include "muxio/task.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpd {

template <class F>
class PoolOffload {
 public:
  using R = std::invoke_result_t<F&>;
  static_assert(!std::is_void_v<R>, "offload_to() returns fn's result");

  PoolOffload(ThreadPool& pool, F fn) : pool_(pool), fn_(std::move(fn)) {}

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    EventLoop* loop = context_of(h)->loop;
    loop->offload_started();  // the loop's destructor waits for offload_finished()
    pool_.submit([this, loop, h] {
      try {
        result_.emplace(fn_());
      } catch (...) {
        error_ = std::current_exception();
      }
      loop->call_soon_threadsafe([h] { h.resume(); });
      loop->offload_finished();
    });
  }
  R await_resume() {
    if (error_) std::rethrow_exception(error_);
    return std::move(*result_);
  }

 private:
  ThreadPool& pool_;
  F fn_;
  std::optional<R> result_;
  std::exception_ptr error_;
};

template <class F>
PoolOffload<std::decay_t<F>> offload_to(ThreadPool& pool, F&& fn) {
  static_assert(std::is_trivially_destructible_v<std::decay_t<F>>,
                "capture by reference in offload_to(): see offload()");
  return PoolOffload<std::decay_t<F>>(pool, std::forward<F>(fn));
}

}  // namespace muxio::ftpd
