// Signal-driven IO: the kernel sends a real-time signal when a descriptor changes state
// (O_ASYNC + F_SETOWN_EX + F_SETSIG), with the descriptor and its poll band in the siginfo. The
// loop blocks the signal and collects it synchronously with sigtimedwait(2), so no code runs in
// signal context.
//
// Three special problems, each handled here:
// - Signals announce *changes*: a descriptor that is already ready when it is registered never
//   signals. Registration therefore queues a poll(2) of that descriptor, like EPOLL_CTL_ADD's
//   initial report; the backend is edge-triggered for everything else.
// - Real-time signal queue overflow: when a signal cannot be queued the kernel sends plain SIGIO
//   instead, and the lost signals' descriptors are unknown. On SIGIO the backend polls its whole
//   registered set, as the kernel documentation advises, so no readiness is ever lost.
// - Signals go to one thread: descriptors are owned by the thread that waits (F_OWNER_TID). A loop
//   built on one thread and run on another re-owns its descriptors at its first wait.
// Each backend instance uses its own real-time signal, so several loops can run side by side.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <mutex>

#include "selectors/backends.hpp"

namespace muxio {
namespace {

extern "C" void ignore_delivered_signal(int) {}

// Real-time signals are a small pool: spread instances over SIGRTMIN+1 .. SIGRTMAX-1.
int next_signal() {
  static std::atomic<int> counter{0};
  int span = SIGRTMAX - SIGRTMIN - 1;
  return SIGRTMIN + 1 + counter.fetch_add(1) % span;
}

// A handler (not SIG_IGN: ignored signals are discarded, even when blocked) in case a signal
// reaches a thread that does not block it.
void install_handler(int signo) {
  static std::mutex mutex;
  static bool installed[NSIG] = {};
  std::lock_guard lock(mutex);
  if (installed[signo]) return;
  struct sigaction sa {};
  sa.sa_handler = ignore_delivered_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(signo, &sa, nullptr);
  installed[signo] = true;
}

pid_t current_tid() {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

Events from_band(long band) {
  Events e = 0;
  if (band & (POLLIN | POLLRDNORM | POLLPRI | POLLHUP | POLLERR)) e |= kReadable;
  if (band & (POLLOUT | POLLWRNORM | POLLHUP | POLLERR)) e |= kWritable;
  if (band & POLLERR) e |= kError;
  if (band & POLLHUP) e |= kHangup;
  return e;
}

class SigioBackend final : public SelectorBackend {
 public:
  SigioBackend() : signo_(next_signal()) {
    install_handler(signo_);
    install_handler(SIGIO);
    sigemptyset(&set_);
    sigaddset(&set_, signo_);
    sigaddset(&set_, SIGIO);
  }

  std::string_view name() const override { return "sigio"; }
  bool edge_triggered() const override { return true; }
  bool watches_eventfd() const override { return false; }

  std::error_code modify(int fd, Events old_events, Events new_events) override {
    block_in_this_thread();
    if (static_cast<std::size_t>(fd) >= interest_.size()) interest_.resize(fd + 1, 0);
    if (new_events == 0) {
      interest_[fd] = 0;
      int flags = ::fcntl(fd, F_GETFL);
      if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_ASYNC);  // EBADF after close is fine
      return {};
    }
    if (old_events == 0) {
      if (auto ec = arm(fd, current_tid())) return ec;
    }
    interest_[fd] = new_events;
    to_check_.push_back(fd);  // what is ready already will never signal
    return {};
  }

  std::error_code poll(std::chrono::nanoseconds timeout, std::vector<FdEvent>& out) override {
    block_in_this_thread();
    if (pid_t tid = current_tid(); tid != owner_) reown(tid);
    found_.clear();
    check_now(to_check_);
    to_check_.clear();
    // Signals for events nobody asked for (write space on a reader) must not end the wait
    // early: keep waiting until something of interest is ready or the time is up.
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (found_.empty()) {
      siginfo_t info{};
      int sig;
      if (timeout.count() < 0) {
        sig = ::sigwaitinfo(&set_, &info);
      } else {
        auto left = std::max(std::chrono::nanoseconds(0),
                             std::chrono::nanoseconds(deadline - std::chrono::steady_clock::now()));
        timespec ts{static_cast<time_t>(left.count() / 1'000'000'000),
                    static_cast<long>(left.count() % 1'000'000'000)};
        sig = ::sigtimedwait(&set_, &info, &ts);
      }
      if (sig < 0) {
        if (errno == EINTR && found_.empty()) return errno_code(EINTR);  // the Selector retries
        break;                                                           // EAGAIN: the time is up
      }
      take(sig, info);
    }
    // Then every signal already queued, without waiting.
    for (int taken = 0; taken < 4096; ++taken) {
      siginfo_t info{};
      timespec zero{0, 0};
      int sig = ::sigtimedwait(&set_, &info, &zero);
      if (sig < 0) break;
      take(sig, info);
    }
    out.insert(out.end(), found_.begin(), found_.end());
    return {};
  }

 private:
  std::error_code arm(int fd, pid_t tid) {
    f_owner_ex owner{F_OWNER_TID, tid};
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETSIG, signo_) < 0 || ::fcntl(fd, F_SETOWN_EX, &owner) < 0 ||
        ::fcntl(fd, F_SETFL, flags | O_ASYNC | O_NONBLOCK) < 0) {
      return errno_code(errno);
    }
    owner_ = tid;
    return {};
  }

  void block_in_this_thread() {
    thread_local const SigioBackend* blocked_for = nullptr;
    thread_local int blocked_signo = 0;
    if (blocked_for == this && blocked_signo == signo_) return;
    ::pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    blocked_for = this;
    blocked_signo = signo_;
  }

  // The loop moved to another thread: send the signals there, and look at everything once,
  // since signals may have gone to the old thread meanwhile.
  void reown(pid_t tid) {
    for (std::size_t fd = 0; fd < interest_.size(); ++fd) {
      if (interest_[fd] == 0) continue;
      f_owner_ex owner{F_OWNER_TID, tid};
      ::fcntl(static_cast<int>(fd), F_SETOWN_EX, &owner);
      to_check_.push_back(static_cast<int>(fd));
    }
    owner_ = tid;
  }

  void take(int sig, const siginfo_t& info) {
    if (sig == SIGIO) {
      overflow_rescan();
    } else {
      add(info.si_fd, from_band(info.si_band));
    }
  }

  // Records readiness of interest, merging repeated signals for one descriptor into one event.
  void add(int fd, Events mask) {
    if (fd < 0 || static_cast<std::size_t>(fd) >= interest_.size() || interest_[fd] == 0) return;
    mask &= interest_[fd] | kError | kHangup;
    if (mask == 0) return;
    if (static_cast<std::size_t>(fd) >= slot_.size()) slot_.resize(fd + 1, kNoSlot);
    std::size_t i = slot_[fd];
    if (i < found_.size() && found_[i].fd == fd) {
      found_[i].mask |= mask;
      return;
    }
    slot_[fd] = found_.size();
    found_.push_back(FdEvent{fd, mask});
  }

  // The queue overflowed: which signals were lost is unknown, so poll the whole set.
  void overflow_rescan() {
    std::vector<int> all;
    for (std::size_t fd = 0; fd < interest_.size(); ++fd) {
      if (interest_[fd] != 0) all.push_back(static_cast<int>(fd));
    }
    check_now(all);
  }

  void check_now(const std::vector<int>& fds) {
    if (fds.empty()) return;
    std::vector<pollfd> p;
    for (int fd : fds) {
      if (static_cast<std::size_t>(fd) < interest_.size() && interest_[fd] != 0) {
        p.push_back(pollfd{fd, static_cast<short>(POLLIN | POLLOUT), 0});
      }
    }
    if (::poll(p.data(), p.size(), 0) <= 0) return;
    for (const auto& e : p) {
      if (e.revents == 0) continue;
      Events mask = from_band(e.revents);
      if (e.revents & POLLNVAL) mask |= kError;
      add(e.fd, mask);
    }
  }

  int signo_;
  sigset_t set_{};
  pid_t owner_ = 0;
  static constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);

  std::vector<Events> interest_;
  std::vector<int> to_check_;
  std::vector<FdEvent> found_;     // this wait's events, one per descriptor
  std::vector<std::size_t> slot_;  // fd -> index in found_ (valid when it points back at fd)
};

}  // namespace

std::unique_ptr<SelectorBackend> make_sigio_backend() {
  return std::make_unique<SigioBackend>();
}

}  // namespace muxio
