#include "muxio/tcp_stream.hpp"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace muxio {

TcpStream::TcpStream(EventLoop& loop, int fd)
    : fd_(fd), io_(std::make_unique<IoHandle>(loop, fd)) {}

TcpStream::TcpStream(TcpStream&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      io_(std::move(other.io_)),
      splice_pipe_(std::move(other.splice_pipe_)) {}

TcpStream& TcpStream::operator=(TcpStream&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    io_ = std::move(other.io_);
    splice_pipe_ = std::move(other.splice_pipe_);
  }
  return *this;
}

TcpStream::~TcpStream() {
  close();
}

void TcpStream::close() {
  Proactor* proactor = io_ != nullptr ? io_->proactor() : nullptr;
  io_.reset();  // unregister before close: a closed fd must never linger in the selector
  splice_pipe_.reset();
  if (fd_ >= 0) close_descriptor(proactor, std::exchange(fd_, -1));
}

void TcpStream::abort() {
  if (fd_ >= 0) {
    linger reset{1, 0};
    (void)::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  }
  close();
}

Task<Result<TcpStream>> TcpStream::connect(EventLoop& loop, SocketAddress addr) {
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) co_return errno_code(errno);
  TcpStream stream(loop, fd);
  if (auto ec = co_await ConnectOp(stream.io_.get(), addr)) co_return ec;
  co_return std::move(stream);
}

std::shared_ptr<SplicePipe> TcpStream::splice_pipe() {
  if (io_ == nullptr || io_->proactor() == nullptr) return nullptr;
  // A pipe that could not be made is tried again: descriptors may have been freed since.
  if (splice_pipe_ == nullptr || splice_pipe_->dirty || !splice_pipe_->ok()) {
    splice_pipe_ = std::make_shared<SplicePipe>(fd_);
  }
  return splice_pipe_;
}

Task<Result<std::size_t>> TcpStream::read_some(std::span<std::byte> buf) {
  co_return co_await recv(buf);
}

Task<std::error_code> TcpStream::write_all(std::span<const std::byte> buf) {
  co_return co_await send_all(buf);
}

Task<std::error_code> TcpStream::shutdown() {
  co_return shutdown_write();
}

std::error_code TcpStream::shutdown_both() {
  if (::shutdown(fd_, SHUT_RDWR) < 0) return errno_code(errno);
  if (io_) io_->recheck();
  return {};
}

std::error_code TcpStream::shutdown_write() {
  if (::shutdown(fd_, SHUT_WR) < 0) return errno_code(errno);
  return {};
}

std::error_code TcpStream::set_nodelay(bool on) {
  int v = on ? 1 : 0;
  if (::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0) return errno_code(errno);
  return {};
}

}  // namespace muxio
