// LoopThread: which thread a loop belongs to, for a check that the calls that may only be made on
// the loop's thread are made there (muduo's assertInLoopThread). A mistake here is otherwise
// silent or random: the loop's queues and timer heap have no locks, and an io_uring set up with
// SINGLE_ISSUER refuses submissions from any other thread than the one that enabled it.
//
// A loop is often built on one thread and run on another, and destroyed by the thread that joined
// its runner; so the owner is the thread that last built, ran or destroyed it, and whoever does
// any of the three must already have exclusive use of the loop.
//
// The check is compiled in when NDEBUG is not defined, or with MUXIO_CHECK_THREADS (the CMake
// option of that name, on by default in sanitizer builds); otherwise it costs nothing.
#pragma once

#include <atomic>
#include <thread>

#if !defined(NDEBUG) || defined(MUXIO_CHECK_THREADS)
#define MUXIO_THREAD_CHECKS 1
#else
#define MUXIO_THREAD_CHECKS 0
#endif

namespace muxio {

class LoopThread {
 public:
  static constexpr bool kChecked = MUXIO_THREAD_CHECKS != 0;

  LoopThread() { adopt(); }
  // The calling thread becomes the owner.
  void adopt() { owner_.store(std::this_thread::get_id(), std::memory_order_relaxed); }
  // Reports `call` and aborts when the calling thread is not the owner (checked builds only).
  void check(const char* call) const {
    if constexpr (kChecked) {
      if (owner_.load(std::memory_order_relaxed) != std::this_thread::get_id()) fail(call);
    }
  }

 private:
  [[noreturn]] static void fail(const char* call);

  // Present in every build, so that the layout of EventLoop never depends on the check.
  std::atomic<std::thread::id> owner_;
};

}  // namespace muxio
