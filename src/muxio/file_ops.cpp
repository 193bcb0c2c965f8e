#include "muxio/file_ops.hpp"

#include <unistd.h>

#include <cerrno>

#include "muxio/result.hpp"

namespace muxio {

bool FileOp::start(TaskContext* ctx, std::coroutine_handle<> h) {
  ctx_ = ctx;
  ctx_->loop->assert_in_loop_thread("a file operation");
  if ((error_ = ctx_->stop_reason())) return false;
  proactor_ = ctx_->loop->selector().backend().proactor();
  if (proactor_ == nullptr) {
    perform_now();
    return false;
  }
  waiting_ = h;
  ctx_->pending = this;
  proactor_->submit(this);
  return true;
}

void FileOp::perform_now() {
  for (;;) {
    ssize_t n;
    if (kind_ == Kind::read) {
      n = offset_ < 0 ? ::read(fd_, buf_.data(), buf_.size())
                      : ::pread(fd_, buf_.data(), buf_.size(), static_cast<off_t>(offset_));
    } else {
      n = offset_ < 0 ? ::write(fd_, buf_.data(), buf_.size())
                      : ::pwrite(fd_, buf_.data(), buf_.size(), static_cast<off_t>(offset_));
    }
    if (n >= 0) {
      done_ = static_cast<std::size_t>(n);
      return;
    }
    if (errno != EINTR) {
      error_ = errno_code(errno);
      return;
    }
  }
}

// Offset -1: at the file position, advancing it.
CompletionRequest FileOp::request() {
  if (kind_ == Kind::read) return CompletionRequest::read(fd_, buf_, offset_);
  return CompletionRequest::write(fd_, buf_, offset_);
}

void FileOp::on_completion(int result) {
  if (result >= 0) {
    done_ = static_cast<std::size_t>(result);  // bytes moved count, even if a cancel came late
  } else {
    // A cancelled read in a kernel worker may end with EINTR or another error, not ECANCELED:
    // whatever failed after an interruption reports the interruption.
    error_ = interrupted_ ? interrupted_ : errno_code(-result);
  }
  if (ctx_->pending == this) ctx_->pending = nullptr;
  ctx_->loop->resume_soon(waiting_);
}

void FileOp::interrupt(std::error_code reason) {
  if (interrupted_) return;
  interrupted_ = reason;
  proactor_->cancel(this);
}

Task<std::error_code> write_file_all(int fd, std::span<const std::byte> buf, std::uint64_t offset) {
  while (!buf.empty()) {
    auto n = co_await write_file_at(fd, buf, static_cast<std::int64_t>(offset));
    if (!n) co_return n.error();
    if (*n == 0) co_return errno_code(ENOSPC);  // no progress: the device took nothing
    buf = buf.subspan(*n);
    offset += *n;
  }
  co_return std::error_code{};
}

}  // namespace muxio
