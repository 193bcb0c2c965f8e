#include "muxio/tcp_listener.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace muxio {
namespace {

UniqueFd open_spare() {
  return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

std::error_code set_flag(int fd, int level, int name, bool on) {
  int v = on ? 1 : 0;
  if (::setsockopt(fd, level, name, &v, sizeof v) < 0) return errno_code(errno);
  return {};
}

}  // namespace

Result<TcpListener> TcpListener::bind(EventLoop& loop, const SocketAddress& addr,
                                      ListenOptions options) {
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_code(errno);
  TcpListener l;
  l.fd_ = fd;
  l.io_ = std::make_unique<IoHandle>(loop, fd);
  if (auto ec = set_flag(fd, SOL_SOCKET, SO_REUSEADDR, true)) return ec;
  if (options.reuse_port) {
    if (auto ec = set_flag(fd, SOL_SOCKET, SO_REUSEPORT, true)) return ec;
  }
  if (addr.is_v6()) {
    if (auto ec = set_flag(fd, IPPROTO_IPV6, IPV6_V6ONLY, options.v6_only)) return ec;
  }
  if (::bind(fd, addr.data(), addr.size()) < 0) return errno_code(errno);
  if (::listen(fd, options.backlog) < 0) return errno_code(errno);
  l.spare_fd_ = open_spare();
  return l;
}

Result<TcpListener> TcpListener::adopt(EventLoop& loop, int fd) {
  TcpListener l;
  l.fd_ = fd;
  int type = 0;
  int listening = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) return errno_code(errno);
  len = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) return errno_code(errno);
  if (type != SOCK_STREAM || listening == 0) return errno_code(EINVAL);
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return errno_code(errno);
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return errno_code(errno);
  l.io_ = std::make_unique<IoHandle>(loop, fd);
  l.spare_fd_ = open_spare();
  return l;
}

std::error_code TcpListener::check_port_free(const SocketAddress& addr, ListenOptions options) {
  UniqueFd fd(::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno_code(errno);
  // SO_REUSEADDR like the listeners: connections in TIME_WAIT from an earlier run do not count.
  std::error_code ec = set_flag(fd.get(), SOL_SOCKET, SO_REUSEADDR, true);
  if (!ec && addr.is_v6()) ec = set_flag(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, options.v6_only);
  if (!ec && ::bind(fd.get(), addr.data(), addr.size()) < 0) ec = errno_code(errno);
  return ec;
}

TcpListener::TcpListener(TcpListener&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      spare_fd_(std::move(o.spare_fd_)),
      shed_(o.shed_),
      io_(std::move(o.io_)) {}

TcpListener& TcpListener::operator=(TcpListener&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    spare_fd_ = std::move(o.spare_fd_);
    shed_ = o.shed_;
    io_ = std::move(o.io_);
  }
  return *this;
}

TcpListener::~TcpListener() {
  close();
}

void TcpListener::close() {
  Proactor* proactor = io_ != nullptr ? io_->proactor() : nullptr;
  io_.reset();
  if (fd_ >= 0) close_descriptor(proactor, std::exchange(fd_, -1));
  spare_fd_.reset();
}

TcpListener::Shed TcpListener::shed_one() {
  if (!spare_fd_) spare_fd_ = open_spare();  // descriptors may have been freed since
  if (!spare_fd_) return Shed::no_spare;
  spare_fd_.reset();
  int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  // Closed before the spare is reopened: until then it holds the only free descriptor.
  if (c >= 0) {
    ::close(c);
    ++shed_;
  }
  spare_fd_ = open_spare();
  return c >= 0 ? Shed::shed : Shed::none_pending;
}

AcceptOp::AcceptOp(TcpListener& listener)
    : IoAwaitable(listener.io_.get(), Direction::read), listener_(&listener) {}

bool AcceptOp::perform() {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd =
        ::accept4(io_->fd(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      fd_ = fd;
      peer_ = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
      return true;
    }
    switch (errno) {
      case EINTR:
      case ECONNABORTED:  // the client gave up while queued: take the next one
        continue;
      case EAGAIN:
        io_->clear_ready(Direction::read);
        return false;
      case EMFILE:
      case ENFILE: {
        int err = errno;
        switch (listener_->shed_one()) {
          case TcpListener::Shed::shed:
            continue;
          case TcpListener::Shed::none_pending:
            io_->clear_ready(Direction::read);
            return false;
          case TcpListener::Shed::no_spare:
            error_ = errno_code(err);
            return true;
        }
        return true;
      }
      default:
        error_ = errno_code(errno);
        return true;
    }
  }
}

CompletionRequest AcceptOp::request() {
  peer_len_ = sizeof peer_storage_;  // in: the room; a resubmission starts with all of it again
  return CompletionRequest::accept(io_->fd(), reinterpret_cast<sockaddr*>(&peer_storage_),
                                   &peer_len_, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void AcceptOp::on_completion(int result) {
  if (io_ == nullptr) {
    // The listener went away (detach) while the accept was in flight, and the kernel accepted
    // before the cancellation reached it: no listener, loop or caller wants the connection now.
    // It is closed here (else its descriptor leaks) and the accept reports the cancellation.
    if (result >= 0) ::close(result);
    error_ = errno_code(ECANCELED);  // or the reason of the detach, which finish_completion sets
    finish_completion(false);
    return;
  }
  if (result >= 0) {
    fd_ = result;
    peer_ = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&peer_storage_), peer_len_);
    finish_completion(true);
    return;
  }
  int err = -result;
  if (err == EINTR || err == ECONNABORTED || err == EAGAIN) {
    if (resubmit()) return;
  } else if (err == EMFILE || err == ENFILE) {
    // The same shedding as on the readiness path (see tcp_listener.hpp). But io_uring fails the
    // accept with EMFILE before it waits for a connection: resubmitting when none was pending
    // would spin, so then the error goes to the caller, who backs off.
    auto shed = listener_->shed_one();
    if (shed == TcpListener::Shed::shed && resubmit()) return;
  }
  error_ = errno_code(err);
  finish_completion(false);
}

Result<Accepted> AcceptOp::await_resume() {
  if (error_) return error_;
  return Accepted{TcpStream(io_->loop(), fd_), peer_};
}

}  // namespace muxio
