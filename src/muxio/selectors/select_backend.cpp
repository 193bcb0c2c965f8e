// select(2): the oldest multiplexer. The kernel copies and scans three bit sets of FD_SETSIZE
// (1024) bits on every call, so its cost grows with the highest descriptor, and a descriptor
// >= FD_SETSIZE cannot be watched at all: FD_SET on it writes past the set (undefined behaviour),
// so this backend refuses it with a clear error instead.
#include <fcntl.h>
#include <sys/select.h>

#include <cerrno>

#include "selectors/backends.hpp"

namespace muxio {
namespace {

class SelectBackend final : public SelectorBackend {
 public:
  std::string_view name() const override { return "select"; }

  std::error_code modify(int fd, Events, Events new_events) override {
    if (fd >= FD_SETSIZE) return make_error_code(Error::fd_too_large_for_select);
    if (static_cast<std::size_t>(fd) >= interest_.size()) interest_.resize(fd + 1, 0);
    interest_[fd] = new_events;
    set_bit(read_set_, fd, new_events & kReadable);
    set_bit(write_set_, fd, new_events & kWritable);
    if (new_events != 0 && fd > max_fd_) max_fd_ = fd;
    while (max_fd_ >= 0 && interest_[max_fd_] == 0)
      --max_fd_;
    return {};
  }

  std::error_code poll(std::chrono::nanoseconds timeout, std::vector<FdEvent>& out) override {
    fd_set readable = read_set_;
    fd_set writable = write_set_;
    timeval tv{};
    timeval* tvp = nullptr;
    if (timeout.count() >= 0) {
      // Round up so that a timer due in 300 ns does not turn into a busy loop of zero timeouts.
      auto us = (timeout.count() + 999) / 1000;
      tv.tv_sec = static_cast<time_t>(us / 1000000);
      tv.tv_usec = static_cast<suseconds_t>(us % 1000000);
      tvp = &tv;
    }
    int n = ::select(max_fd_ + 1, &readable, &writable, nullptr, tvp);
    if (n < 0) {
      if (errno == EINTR) return errno_code(EINTR);  // the Selector retries
      if (errno == EBADF) return report_closed(out);
      return errno_code(errno);
    }
    for (int fd = 0; fd <= max_fd_ && n > 0; ++fd) {
      Events mask = 0;
      if (FD_ISSET(fd, &readable)) mask |= kReadable;
      if (FD_ISSET(fd, &writable)) mask |= kWritable;
      if (mask != 0) {
        out.push_back(FdEvent{fd, mask});
        --n;
      }
    }
    return {};
  }

 private:
  static void set_bit(fd_set& set, int fd, bool on) {
    if (on) {
      FD_SET(fd, &set);
    } else {
      FD_CLR(fd, &set);
    }
  }

  // select() fails as a whole with EBADF when any descriptor in the sets was closed; find those
  // and report them as errors so the owner can unregister them, like poll's POLLNVAL.
  std::error_code report_closed(std::vector<FdEvent>& out) {
    for (int fd = 0; fd <= max_fd_; ++fd) {
      if (interest_[fd] != 0 && ::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
        out.push_back(FdEvent{fd, kError});
      }
    }
    return {};
  }

  fd_set read_set_{};
  fd_set write_set_{};
  std::vector<Events> interest_;
  int max_fd_ = -1;
};

}  // namespace

std::unique_ptr<SelectorBackend> make_select_backend() {
  return std::make_unique<SelectBackend>();
}

}  // namespace muxio
