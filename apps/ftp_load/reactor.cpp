#include "reactor.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace ftp_load {

namespace {
// Deadlines are checked this often: timeouts in ftp-load are seconds, so 20 ms is precise enough
// and a scan of every descriptor 50 times a second costs nothing next to the traffic.
constexpr Nanos kExpiryCheckNs = 20'000'000;
constexpr int kMaxEvents = 256;
}  // namespace

Nanos now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Reactor::Reactor(const std::atomic<bool>& gate_flag)
    : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)), gate_flag_(&gate_flag) {
  if (epoll_fd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + strerror(errno));
}

Reactor::~Reactor() {
  tasks_.clear();  // frames first: they may still name descriptors
  ::close(epoll_fd_);
}

Reactor::Slot& Reactor::slot(int fd) {
  if (static_cast<std::size_t>(fd) >= slots_.size())
    slots_.resize(static_cast<std::size_t>(fd) + 1);
  return slots_[static_cast<std::size_t>(fd)];
}

void Reactor::add(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    throw Failure(std::string("epoll_ctl: ") + strerror(errno));
  }
  slot(fd) = Slot{};
}

void Reactor::remove(int fd) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  slot(fd) = Slot{};
}

void Reactor::Wait::await_suspend(std::coroutine_handle<> h) {
  waiter = h;
  Slot& s = reactor.slot(fd);
  (write ? s.writer : s.reader) = this;
}

void Reactor::Sleep::await_suspend(std::coroutine_handle<> h) {
  reactor.sleepers_.emplace_back(when, h);
}

void Reactor::spawn(Task<void> task) {
  tasks_.push_back(std::move(task));
  tasks_.back().handle().resume();
}

void Reactor::dispatch(int fd, std::uint32_t events) {
  Slot& s = slot(fd);
  // An error or hang-up wakes both sides: the operation they retry reports it.
  const bool in = events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
  const bool out = events & (EPOLLOUT | EPOLLHUP | EPOLLERR);
  Wait* reader = in ? std::exchange(s.reader, nullptr) : nullptr;
  Wait* writer = out ? std::exchange(s.writer, nullptr) : nullptr;
  if (reader != nullptr) reader->waiter.resume();
  if (writer != nullptr && writer != reader) writer->waiter.resume();
}

void Reactor::expire(Nanos now) {
  // Indexes, not references: a resumed coroutine may open a descriptor and grow slots_.
  for (std::size_t fd = 0; fd < slots_.size(); ++fd) {
    for (bool write : {false, true}) {
      Wait*& side = write ? slots_[fd].writer : slots_[fd].reader;
      Wait* w = side;
      if (w != nullptr && w->deadline <= now) {
        side = nullptr;
        w->timed_out = true;
        w->waiter.resume();
      }
    }
  }
  std::vector<std::coroutine_handle<>> due;
  for (std::size_t i = 0; i < sleepers_.size();) {
    if (sleepers_[i].first <= now) {
      due.push_back(sleepers_[i].second);
      sleepers_[i] = sleepers_.back();
      sleepers_.pop_back();
    } else {
      ++i;
    }
  }
  for (auto h : due)
    h.resume();
  if (!gated_.empty() && gate_flag_->load()) {
    for (auto h : std::exchange(gated_, {}))
      h.resume();
  }
}

bool Reactor::all_done() const {
  for (const auto& t : tasks_) {
    if (!t.handle().done()) return false;
  }
  return true;
}

void Reactor::poll_once(int timeout_ms) {
  epoll_event events[kMaxEvents];
  int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
  if (n < 0 && errno != EINTR)
    throw std::runtime_error(std::string("epoll_wait: ") + strerror(errno));
  for (int i = 0; i < n; ++i)
    dispatch(events[i].data.fd, events[i].events);
}

void Reactor::run() {
  // Deadlines, sleepers and the end are looked at every kExpiryCheckNs, not per event.
  while (!all_done()) {
    Nanos check_at = now_ns() + kExpiryCheckNs;
    for (Nanos now = now_ns(); now < check_at; now = now_ns()) {
      poll_once(static_cast<int>((check_at - now) / 1'000'000) + 1);
    }
    expire(now_ns());
  }
}

}  // namespace ftp_load
