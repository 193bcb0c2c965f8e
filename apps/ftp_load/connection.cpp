#include "connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <openssl/err.h>

#include <cerrno>
#include <cstring>

namespace ftp_load {

namespace {
constexpr std::size_t kMaxLine = 8192;

std::string errno_name(int e) {
  const char* name = strerrorname_np(e);
  return name != nullptr ? name : std::to_string(e);
}
}  // namespace

Task<void> Connection::wait(bool write, Nanos deadline, std::string_view what) {
  bool ready = false;
  if (write) {
    ready = co_await reactor_.writable(fd_, deadline);
  } else {
    ready = co_await reactor_.readable(fd_, deadline);
  }
  if (!ready) throw Failure("timeout: " + what_ + " " + std::string(what));
}

Task<void> Connection::connect(const Endpoint& to, std::string what, Nanos deadline) {
  close();
  what_ = std::move(what);
  peer_ = to;
  fd_ = ::socket(to.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw Failure("socket: " + errno_name(errno));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  reactor_.add(fd_);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to.addr), to.len) == 0) co_return;
  if (errno != EINPROGRESS) throw Failure("connect " + what_ + ": " + errno_name(errno));
  co_await wait(true, deadline, "connect");
  int error = 0;
  socklen_t len = sizeof error;
  ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) throw Failure("connect " + what_ + ": " + errno_name(error));
}

Task<void> Connection::start_tls(SSL_CTX* ctx, SSL_SESSION* resume, Nanos deadline) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) throw Failure("tls: SSL_new");
  SSL_set_fd(ssl_, fd_);
  if (resume != nullptr) SSL_set_session(ssl_, resume);
  for (;;) {
    ERR_clear_error();
    int r = SSL_connect(ssl_);
    if (r == 1) co_return;
    int e = SSL_get_error(ssl_, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      throw Failure("tls handshake " + what_ + ": " + ERR_reason_error_string(ERR_peek_error()));
    }
    co_await wait(e == SSL_ERROR_WANT_WRITE, deadline, "handshake");
  }
}

std::size_t Connection::plain_read(std::span<char> buf, bool& again) {
  again = false;
  ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
  if (n >= 0) return static_cast<std::size_t>(n);
  if (errno == EAGAIN || errno == EINTR) {
    again = true;
    return 0;
  }
  throw Failure("recv " + what_ + ": " + errno_name(errno));
}

Task<std::size_t> Connection::read_some(std::span<char> buf, Nanos deadline) {
  if (!pending_.empty()) {
    std::size_t n = std::min(buf.size(), pending_.size());
    std::memcpy(buf.data(), pending_.data(), n);
    pending_.erase(0, n);
    co_return n;
  }
  for (;;) {
    if (ssl_ == nullptr) {
      bool again = false;
      std::size_t n = plain_read(buf, again);
      if (!again) co_return n;
      co_await wait(false, deadline, "read");
      continue;
    }
    ERR_clear_error();
    int r = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
    if (r > 0) co_return static_cast<std::size_t>(r);
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_ZERO_RETURN) co_return 0;
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      throw Failure("tls read " + what_);
    }
    co_await wait(e == SSL_ERROR_WANT_WRITE, deadline, "read");
  }
}

Task<std::string> Connection::read_line(Nanos deadline) {
  char buf[4096];
  for (;;) {
    auto eol = pending_.find('\n');
    if (eol != std::string::npos) {
      std::string line = pending_.substr(0, eol);
      pending_.erase(0, eol + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      co_return line;
    }
    if (pending_.size() > kMaxLine) throw Failure("reply line too long");
    std::string kept = std::move(pending_);
    pending_.clear();
    std::size_t n = co_await read_some(std::span(buf), deadline);
    if (n == 0) throw Failure("closed by server: " + what_);
    pending_ = std::move(kept);
    pending_.append(buf, n);
  }
}

Task<void> Connection::write_all(std::string_view data, Nanos deadline) {
  while (!data.empty()) {
    if (ssl_ == nullptr) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n >= 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (errno != EAGAIN && errno != EINTR)
        throw Failure("send " + what_ + ": " + errno_name(errno));
      co_await wait(true, deadline, "write");
      continue;
    }
    ERR_clear_error();
    int r = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
    if (r > 0) {
      data.remove_prefix(static_cast<std::size_t>(r));
      continue;
    }
    int e = SSL_get_error(ssl_, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) throw Failure("tls write " + what_);
    co_await wait(e == SSL_ERROR_WANT_WRITE, deadline, "write");
  }
}

Task<void> Connection::finish_upload(Nanos deadline) {
  if (ssl_ != nullptr) {
    for (;;) {  // sends our close_notify; the server's is drained below with the rest
      ERR_clear_error();
      int r = SSL_shutdown(ssl_);
      if (r >= 0) break;
      int e = SSL_get_error(ssl_, r);
      if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) break;
      co_await wait(e == SSL_ERROR_WANT_WRITE, deadline, "close");
    }
  }
  ::shutdown(fd_, SHUT_WR);
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
    if (n > 0) continue;
    bool ready = co_await reactor_.readable(fd_, deadline);
    if (!ready) break;  // the reply on the control connection says whether the upload counted
  }
  close();
}

void Connection::close() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    reactor_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  pending_.clear();
}

}  // namespace ftp_load
