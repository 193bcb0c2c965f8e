// poll(2): no FD_SETSIZE cap, but the whole pollfd array is still copied into the kernel and
// scanned on every call, so its cost grows with the number of watched descriptors.
#include <poll.h>

#include <cerrno>

#include "selectors/backends.hpp"
#include "selectors/timeout.hpp"

namespace muxio {
namespace {

short to_poll(Events e) {
  short p = 0;
  if (e & kReadable) p |= POLLIN | POLLRDHUP;
  if (e & kWritable) p |= POLLOUT;
  return p;
}

Events from_poll(short p) {
  Events e = 0;
  if (p & (POLLIN | POLLPRI | POLLRDHUP)) e |= kReadable;
  if (p & POLLRDHUP) e |= kPeerClosed;
  if (p & POLLOUT) e |= kWritable;
  if (p & (POLLERR | POLLNVAL)) e |= kError;
  if (p & POLLHUP) e |= kHangup;
  return e;
}

class PollBackend final : public SelectorBackend {
 public:
  std::string_view name() const override { return "poll"; }
  bool reports_peer_closed() const override { return true; }

  std::error_code modify(int fd, Events old_events, Events new_events) override {
    if (old_events == 0) {
      if (static_cast<std::size_t>(fd) >= slot_.size()) slot_.resize(fd + 1, kNoSlot);
      slot_[fd] = fds_.size();
      fds_.push_back(pollfd{fd, to_poll(new_events), 0});
    } else if (new_events == 0) {
      remove(fd);
    } else {
      fds_[slot_[fd]].events = to_poll(new_events);
    }
    return {};
  }

  std::error_code poll(std::chrono::nanoseconds timeout, std::vector<FdEvent>& out) override {
    int n = ::poll(fds_.data(), fds_.size(), timeout_ms(timeout));
    if (n < 0) return errno_code(errno);  // EINTR included: the Selector retries
    for (std::size_t i = 0; i < fds_.size() && n > 0; ++i) {
      if (fds_[i].revents != 0) {
        out.push_back(FdEvent{fds_[i].fd, from_poll(fds_[i].revents)});
        --n;
      }
    }
    return {};
  }

 private:
  static constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);

  // Swap-remove keeps the array dense, so poll() never scans holes.
  void remove(int fd) {
    std::size_t i = slot_[fd];
    if (i != fds_.size() - 1) {
      fds_[i] = fds_.back();
      slot_[fds_[i].fd] = i;
    }
    fds_.pop_back();
    slot_[fd] = kNoSlot;
  }

  std::vector<pollfd> fds_;
  std::vector<std::size_t> slot_;  // fd -> index in fds_
};

}  // namespace

std::unique_ptr<SelectorBackend> make_poll_backend() {
  return std::make_unique<PollBackend>();
}

}  // namespace muxio
