// epoll(7): interest is registered once with epoll_ctl and kept in the kernel; epoll_wait returns
// only the ready descriptors, so the cost of a wait does not grow with idle connections.
//
// Level-triggered ("epoll"): a descriptor is reported as long as it stays ready, like poll.
// Edge-triggered ("epoll-et"): it is reported when it becomes ready. The discipline this needs —
// read or write until EAGAIN before waiting again, or the rest of the data is never announced —
// is kept by muxio's operations (src/muxio/io_handle.cpp); a raw Selector user must keep it too.
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "muxio/unique_fd.hpp"
#include "selectors/backends.hpp"
#include "selectors/timeout.hpp"

namespace muxio {
namespace {

class EpollBackend final : public SelectorBackend {
 public:
  EpollBackend(int epfd, bool edge) : epfd_(epfd), edge_(edge) {}

  std::string_view name() const override { return edge_ ? "epoll-et" : "epoll"; }
  bool edge_triggered() const override { return edge_; }
  bool reports_peer_closed() const override { return true; }

  std::error_code modify(int fd, Events old_events, Events new_events) override {
    epoll_event ev{};
    ev.data.fd = fd;
    ev.events = to_epoll(new_events);
    int op = old_events == 0 ? EPOLL_CTL_ADD : new_events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (::epoll_ctl(epfd_.get(), op, fd, &ev) < 0) return errno_code(errno);
    return {};
  }

  std::error_code poll(std::chrono::nanoseconds timeout, std::vector<FdEvent>& out) override {
    int n = ::epoll_wait(epfd_.get(), events_.data(), static_cast<int>(events_.size()),
                         timeout_ms(timeout));
    if (n < 0) return errno_code(errno);  // EINTR included: the Selector retries
    for (int i = 0; i < n; ++i)
      out.push_back(FdEvent{events_[i].data.fd, from_epoll(events_[i])});
    return {};
  }

 private:
  std::uint32_t to_epoll(Events e) const {
    std::uint32_t r = EPOLLRDHUP;
    if (e & kReadable) r |= EPOLLIN;
    if (e & kWritable) r |= EPOLLOUT;
    if (edge_) r |= EPOLLET;
    return r;
  }

  static Events from_epoll(const epoll_event& ev) {
    Events e = 0;
    // A half-closed peer (RDHUP) makes read() return 0: that is read readiness.
    if (ev.events & (EPOLLIN | EPOLLPRI | EPOLLRDHUP)) e |= kReadable;
    if (ev.events & EPOLLRDHUP) e |= kPeerClosed;
    if (ev.events & EPOLLOUT) e |= kWritable;
    if (ev.events & EPOLLERR) e |= kError;
    if (ev.events & EPOLLHUP) e |= kHangup;
    return e;
  }

  UniqueFd epfd_;
  bool edge_;
  std::array<epoll_event, 1024> events_{};
};

Result<std::unique_ptr<SelectorBackend>> make_epoll(bool edge) {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return errno_code(errno);
  return std::unique_ptr<SelectorBackend>(std::make_unique<EpollBackend>(fd, edge));
}

}  // namespace

Result<std::unique_ptr<SelectorBackend>> make_epoll_backend() {
  return make_epoll(false);
}
Result<std::unique_ptr<SelectorBackend>> make_epoll_et_backend() {
  return make_epoll(true);
}

}  // namespace muxio
