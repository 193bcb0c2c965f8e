// UniqueFd: owns a file descriptor, closes it once. Movable, not copyable.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "muxio/result.hpp"

namespace muxio {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }
  // Closes now and says whether close(2) failed: on NFS and some other file systems a write
  // error (EIO, ENOSPC, EDQUOT) may show only here. EINTR is an error too: the data may not have
  // been written. The descriptor is gone either way (Linux frees it even when close reports an
  // error, EINTR included), so it is never retried: the number may already be reused.
  std::error_code close() {
    if (fd_ < 0) return {};
    if (::close(std::exchange(fd_, -1)) < 0) return errno_code(errno);
    return {};
  }

 private:
  int fd_ = -1;
};

}  // namespace muxio
