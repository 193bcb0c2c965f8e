#include "muxio/socket_ops.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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

CompletionRequest RecvOp::request() {
  return CompletionRequest::recv(io_->fd(), buf_, 0);
}

void RecvOp::on_completion(int result) {
  if (result >= 0) {
    received_ = static_cast<std::size_t>(result);
  } else {
    error_ = errno_code(-result);
  }
  finish_completion(result >= 0);
}

CompletionRequest SendAllOp::request() {
  return CompletionRequest::send(io_->fd(), rest_, MSG_NOSIGNAL);
}

void SendAllOp::on_completion(int result) {
  if (result > 0) {
    sent_ += static_cast<std::size_t>(result);
    rest_ = rest_.subspan(static_cast<std::size_t>(result));
    if (!rest_.empty() && resubmit()) return;  // a partial send: the kernel takes the rest next
  } else if (result < 0 || !rest_.empty()) {   // (0 for an empty buffer is a complete send)
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

SplicePipe::SplicePipe(int socket_fd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    error = errno;
    return;
  }
  read_end = UniqueFd(fds[0]);
  write_end = UniqueFd(fds[1]);
  // A larger pipe moves more per splice; unprivileged processes get up to fs.pipe-max-size.
  int size = ::fcntl(write_end.get(), F_SETPIPE_SZ, 1 << 20);
  if (size < 0) size = ::fcntl(write_end.get(), F_GETPIPE_SZ);
  capacity = size > 0 ? static_cast<std::size_t>(size) : 0;
  socket = UniqueFd(::fcntl(socket_fd, F_DUPFD_CLOEXEC, 0));
  if (!socket) error = errno;
}

namespace {
// Below this a splice round trip moves too little to beat sendfile(2) on readiness.
constexpr std::size_t kUsefulPipe = 64 * 1024;

std::error_code socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0) err = EPIPE;
  return errno_code(err);
}
}  // namespace

SendfileOp::SendfileOp(IoHandle* io, std::shared_ptr<SplicePipe> pipe, int file_fd, off_t offset,
                       std::size_t count)
    : IoAwaitable(io, Direction::write),
      pipe_(std::move(pipe)),
      file_fd_(file_fd),
      offset_(offset),
      rest_(count) {
  if (pipe_ != nullptr && (!pipe_->ok() || pipe_->capacity < kUsefulPipe)) {
    step_ = Step::sendfile_when_writable;
  }
}

CompletionRequest SendfileOp::request() {
  int sock = pipe_ != nullptr && pipe_->ok() ? pipe_->socket.get() : io_->fd();
  switch (step_) {
    case Step::fill:
      return CompletionRequest::splice(file_fd_, offset_, pipe_->write_end.get(),
                                       std::min(rest_, pipe_->capacity));
    case Step::drain:
      return CompletionRequest::splice(pipe_->read_end.get(), -1, sock, in_pipe_);
    case Step::wait_writable:
    case Step::sendfile_when_writable:
      break;
  }
  return CompletionRequest::poll(sock, POLLOUT);
}

void SendfileOp::on_completion(int result) {
  if (io_ == nullptr) {  // the stream was closed: the cancellation is the answer
    finish_completion(false);
    return;
  }
  next_step(result);
}

// fill -> drain (-> wait_writable -> drain, while the socket is full) -> fill ... until the count
// is sent, the file ends, or an error.
void SendfileOp::next_step(int result) {
  if (result < 0 && !(step_ == Step::drain && result == -EAGAIN)) {
    finish(errno_code(-result));
    return;
  }
  switch (step_) {
    case Step::fill:
      if (result == 0) {  // end of file before count: a short total, as sendfile(2) gives
        finish({});
        return;
      }
      in_pipe_ = static_cast<std::size_t>(result);
      offset_ += result;
      rest_ -= static_cast<std::size_t>(result);
      step_ = Step::drain;
      break;
    case Step::drain:
      if (result == -EAGAIN) {
        step_ = Step::wait_writable;  // the socket is full: the splice does not wait by itself
        break;
      }
      if (result == 0) {  // no progress with bytes waiting: the socket is gone
        finish(socket_error(pipe_->socket.get()));
        return;
      }
      in_pipe_ -= static_cast<std::size_t>(result);
      sent_ += static_cast<std::size_t>(result);
      if (in_pipe_ == 0 && rest_ == 0) {
        finish({});
        return;
      }
      if (in_pipe_ == 0) step_ = Step::fill;
      break;
    case Step::wait_writable:
      if (result & (POLLERR | POLLHUP)) {
        finish(socket_error(pipe_->socket.get()));
        return;
      }
      step_ = Step::drain;
      break;
    case Step::sendfile_when_writable:
      if (perform()) {  // done, or failed: perform() set error_
        finish({});
        return;
      }
      break;  // the socket filled up again: poll once more
  }
  if (resubmit()) return;
  // Cancelled between steps: the bytes sent so far count, the cancellation is reported if none.
  if (in_pipe_ > 0 && pipe_ != nullptr) pipe_->dirty = true;
  finish_completion(sent_ > 0);
}

void SendfileOp::finish(std::error_code ec) {
  if (ec) error_ = ec;
  if (in_pipe_ > 0 && pipe_ != nullptr) pipe_->dirty = true;  // stale bytes: never send them later
  finish_completion(sent_ > 0 || !error_);
}

bool ConnectOp::perform() {
  if (!started_) {
    started_ = true;
    if (::connect(io_->fd(), addr_.data(), addr_.size()) == 0) return true;
    if (errno != EINPROGRESS) {
      error_ = errno_code(errno);
      return true;
    }
    io_->clear_ready(Direction::write);
    return false;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(io_->fd(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err == EINPROGRESS) return false;
  if (err != 0) error_ = errno_code(err);
  return true;
}

CompletionRequest ConnectOp::request() {
  return CompletionRequest::connect(io_->fd(), addr_.data(), addr_.size());
}

void ConnectOp::on_completion(int result) {
  if (result < 0) error_ = errno_code(-result);
  finish_completion(result == 0);
}

}  // namespace muxio
