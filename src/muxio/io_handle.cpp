#include "muxio/io_handle.hpp"

#include <unistd.h>

#include <cerrno>

namespace muxio {

IoHandle::IoHandle(EventLoop& loop, int fd)
    : loop_(&loop),
      fd_(fd),
      edge_(loop.selector().edge_triggered()),
      short_read_drains_(!edge_ || loop.selector().backend().reports_peer_closed()),
      proactor_(loop.selector().backend().proactor()) {}

IoHandle::~IoHandle() {
  for (Direction d : {Direction::read, Direction::write}) {
    if (IoOperation* op = std::exchange(waiter_[index(d)], nullptr))
      op->detach(errno_code(ECANCELED));
  }
  if (armed_ != 0) (void)loop_->selector().unregister(fd_);
}

void close_descriptor(Proactor* proactor, int fd) {
  if (proactor != nullptr) {
    proactor->close(fd);
  } else {
    ::close(fd);
  }
}

std::error_code IoHandle::set_interest(Events events) {
  loop_->assert_in_loop_thread("registering a descriptor");
  Selector& sel = loop_->selector();
  std::error_code ec;
  if (events == 0) {
    ec = sel.unregister(fd_);
  } else if (armed_ == 0) {
    ec = sel.register_fd(fd_, events, static_cast<IoWatcher*>(this));
  } else {
    ec = sel.modify(fd_, events, static_cast<IoWatcher*>(this));
  }
  if (!ec || events == 0) armed_ = events;
  return ec;
}

std::error_code IoHandle::wait(Direction d, IoOperation* op) {
  waiter_[index(d)] = op;
  // Edge-triggered: register both directions once; edges must never be missed by a re-arm.
  Events want = edge_ ? (kReadable | kWritable) : (armed_ | event_of(d));
  if (want != armed_) {
    if (auto ec = set_interest(want)) {
      waiter_[index(d)] = nullptr;
      return ec;
    }
  }
  return {};
}

void IoHandle::cancel_wait(Direction d, IoOperation* op) {
  if (waiter_[index(d)] == op) waiter_[index(d)] = nullptr;
}

void IoHandle::recheck() {
  if (proactor_ != nullptr) return;
  for (Direction d : {Direction::read, Direction::write}) {
    if (waiter_[index(d)] != nullptr) wake(d);
  }
}

void IoHandle::wake(Direction d) {
  ready_[index(d)] = true;
  IoOperation* op = waiter_[index(d)];
  if (op == nullptr) {
    // Level-triggered interest nobody waits for would report again on every iteration.
    if (!edge_ && (armed_ & event_of(d))) (void)set_interest(armed_ & ~event_of(d));
    return;
  }
  if (op->perform()) {
    waiter_[index(d)] = nullptr;
    op->complete();
  }
}

void IoHandle::on_events(Events ready) {
  if (ready & kPeerClosed) peer_closed_ = true;
  // Errors and hang-ups wake both directions: the next system call reports what happened.
  if (ready & (kReadable | kError | kHangup)) wake(Direction::read);
  if (ready & (kWritable | kError | kHangup)) wake(Direction::write);
}

}  // namespace muxio
