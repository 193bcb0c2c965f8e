#include "muxio/socket_ops.hpp"

#include <liburing.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <cerrno>

namespace muxio {
namespace {
bool would_block(int err) {
  return err == EAGAIN || err == EWOULDBLOCK;
}
}  // namespace

bool RecvOp::perform() {
  for (;;) {
    ssize_t n = ::recv(io_->fd(), buf_.data(), buf_.size(), 0);
    if (n > 0) {
      received_ = static_cast<std::size_t>(n);
      // A short read drained the socket: the next read waits instead of trying for EAGAIN.
      if (received_ < buf_.size()) io_->note_short_read();
      return true;
    }
    if (n == 0) return true;  // end of stream: stays "ready", every later read sees it at once
    if (errno == EINTR) continue;
    if (would_block(errno)) {
      io_->clear_ready(Direction::read);
      return false;
    }
    error_ = errno_code(errno);
    return true;
  }
}

void RecvOp::prepare(void* sqe) {
  io_uring_prep_recv(static_cast<io_uring_sqe*>(sqe), io_->fd(), buf_.data(), buf_.size(), 0);
}

void RecvOp::on_completion(int result) {
  if (result >= 0) {
    received_ = static_cast<std::size_t>(result);
  } else {
    error_ = errno_code(-result);
  }
  finish_completion(result >= 0);
}

void SendAllOp::prepare(void* sqe) {
  io_uring_prep_send(static_cast<io_uring_sqe*>(sqe), io_->fd(), rest_.data(), rest_.size(),
                     MSG_NOSIGNAL);
}

void SendAllOp::on_completion(int result) {
  if (result > 0) {
    sent_ += static_cast<std::size_t>(result);
    rest_ = rest_.subspan(static_cast<std::size_t>(result));
    if (!rest_.empty() && resubmit()) return;  // a partial send: the kernel takes the rest next
  } else {
    error_ = errno_code(result < 0 ? -result : EPIPE);
  }
  // Cancelled halfway, the bytes already sent are gone: report the cancellation.
  finish_completion(rest_.empty() && !error_);
}

bool SendAllOp::perform() {
  while (!rest_.empty()) {
    ssize_t n = ::send(io_->fd(), rest_.data(), rest_.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      rest_ = rest_.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (would_block(errno)) {
      io_->clear_ready(Direction::write);
      return false;
    }
    error_ = errno_code(errno);
    return true;
  }
  return true;
}

bool SendfileOp::perform() {
  while (rest_ > 0) {
    ssize_t n = ::sendfile(io_->fd(), file_fd_, &offset_, rest_);
    if (n > 0) {
      sent_ += static_cast<std::size_t>(n);
      rest_ -= static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) return true;  // end of file before count: the caller sees a short total
    if (errno == EINTR) continue;
    if (would_block(errno)) {
      io_->clear_ready(Direction::write);
      return false;
    }
    error_ = errno_code(errno);
    return true;
  }
  return true;
}

bool ConnectOp::perform() {
  // The first call comes before any wait: connect(2) is still in progress, so park.
  if (!started_) {
    started_ = true;
    return false;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(io_->fd(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err == EINPROGRESS) return false;
  if (err != 0) error_ = errno_code(err);
  return true;
}

}  // namespace muxio
