#include "muxio/selector.hpp"

#include <cerrno>

namespace muxio {

Selector::Selector(std::unique_ptr<SelectorBackend> backend) : backend_(std::move(backend)) {}

Selector::~Selector() = default;

std::error_code Selector::register_fd(int fd, Events events, void* data) {
  if (fd < 0) return errno_code(EBADF);
  events &= kReadable | kWritable;
  if (events == 0) return errno_code(EINVAL);
  if (get_key(fd) != nullptr) return errno_code(EEXIST);
  if (auto ec = backend_->modify(fd, 0, events)) return ec;
  if (static_cast<std::size_t>(fd) >= keys_.size()) keys_.resize(fd + 1 + fd / 2);
  keys_[fd] = SelectorKey{fd, events, data};
  ++count_;
  return {};
}

std::error_code Selector::modify(int fd, Events events, void* data) {
  events &= kReadable | kWritable;
  if (events == 0) return errno_code(EINVAL);
  if (get_key(fd) == nullptr) return errno_code(ENOENT);
  SelectorKey& key = keys_[fd];
  if (key.events != events) {
    if (auto ec = backend_->modify(fd, key.events, events)) return ec;
    key.events = events;
  }
  key.data = data;
  return {};
}

std::error_code Selector::unregister(int fd) {
  if (get_key(fd) == nullptr) return errno_code(ENOENT);
  // A descriptor closed before unregister makes epoll_ctl fail with EBADF; the registration is
  // gone either way, so the key must go too.
  (void)backend_->modify(fd, keys_[fd].events, 0);
  keys_[fd] = SelectorKey{};
  --count_;
  return {};
}

const SelectorKey* Selector::get_key(int fd) const {
  if (fd < 0 || static_cast<std::size_t>(fd) >= keys_.size()) return nullptr;
  const SelectorKey& key = keys_[fd];
  return key.fd == fd ? &key : nullptr;
}

Result<std::span<const ReadyEvent>> Selector::select(std::chrono::nanoseconds timeout) {
  raw_.clear();
  ready_.clear();
  // EINTR is retried with the time left (Python's PEP 475): a signal never shortens a wait.
  // Signals meant for an EventLoop arrive through its self-pipe, which wakes the wait anyway.
  // (io_uring's task work also interrupts waits of the whole thread.)
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto ec = backend_->poll(timeout, raw_);
    if (ec != std::errc::interrupted) {
      if (ec) return ec;
      break;
    }
    if (!raw_.empty()) break;
    if (timeout.count() >= 0) {
      timeout = deadline - std::chrono::steady_clock::now();
      if (timeout.count() <= 0) break;
    }
  }
  for (const FdEvent& ev : raw_) {
    const SelectorKey* key = get_key(ev.fd);
    if (key == nullptr) continue;  // unregistered since the backend saw it (sigio's queue)
    Events mask = ev.mask & (key->events | kError | kHangup | kPeerClosed);
    if (mask != 0) ready_.push_back(ReadyEvent{*key, mask});
  }
  return std::span<const ReadyEvent>(ready_);
}

Result<std::unique_ptr<Selector>> make_selector(std::string_view name) {
  auto backend = make_backend(name);
  if (!backend) return backend.error();
  return std::make_unique<Selector>(std::move(*backend));
}

}  // namespace muxio
