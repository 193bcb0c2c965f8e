// TcpListener: a listening TCP socket on a loop; `co_await listener.accept()` yields connections.
//
// The special problem of EMFILE: when the process runs out of descriptors, accept(2) fails but the
// pending connection stays queued, so a level-triggered listener is reported ready forever and the
// loop spins at 100% CPU. The listener keeps one spare descriptor open; on EMFILE/ENFILE it closes
// the spare, accepts and closes the pending connection (the client sees an orderly close instead of
// a hang), and reopens the spare. Connections already open are served as before. If even that
// fails, accept() completes with the error and the caller should back off (sleep_for) before
// accepting again. Move-only; loop thread only.
#pragma once

#include <cstdint>
#include <memory>

#include "muxio/tcp_stream.hpp"
#include "muxio/unique_fd.hpp"

namespace muxio {

struct ListenOptions {
  int backlog = 1024;
  bool reuse_port = false;  // SO_REUSEPORT: several loops bind the same port, the kernel spreads
  bool v6_only = true;      // an IPv6 listener on "::" does not also take IPv4
};

struct Accepted {
  TcpStream stream;
  SocketAddress peer;
};

class TcpListener;

class AcceptOp final : public IoAwaitable<AcceptOp>, public CompletionOp {
 public:
  explicit AcceptOp(TcpListener& listener);
  bool perform() override;
  CompletionRequest request() override;
  void on_completion(int result) override;
  void fail(std::error_code ec) { error_ = ec; }
  Result<Accepted> await_resume();

 private:
  TcpListener* listener_;
  int fd_ = -1;
  SocketAddress peer_;
  sockaddr_storage peer_storage_{};  // filled by the kernel on the completion path
  socklen_t peer_len_ = sizeof(sockaddr_storage);
  std::error_code error_;
};

class TcpListener {
 public:
  TcpListener() = default;
  static Result<TcpListener> bind(EventLoop& loop, const SocketAddress& addr,
                                  ListenOptions options = {});
  // EADDRINUSE when a socket listens on addr already, even one with SO_REUSEPORT of the same
  // user, which SO_REUSEPORT listeners bound now would silently share the port with: call it
  // before binding a group of them. A socket without SO_REUSEPORT is bound there and closed.
  // (A process that binds with SO_REUSEPORT after the group, as the same user, still joins it:
  // the kernel allows that.)
  // Takes over a socket that listens already (systemd socket activation hands them over): made
  // non-blocking and close-on-exec; fails with ENOTSOCK/EINVAL when fd is not a listening
  // stream socket. Owns fd afterwards, even on failure.
  static Result<TcpListener> adopt(EventLoop& loop, int fd);
  static std::error_code check_port_free(const SocketAddress& addr, ListenOptions options = {});
  TcpListener(TcpListener&& other) noexcept;
  TcpListener& operator=(TcpListener&& other) noexcept;
  ~TcpListener();

  AcceptOp accept() { return AcceptOp(*this); }
  Result<SocketAddress> local_address() const { return SocketAddress::local_of(fd_); }
  int fd() const { return fd_; }
  EventLoop& loop() const { return io_->loop(); }
  // Connections closed at once because the process had no descriptor left for them.
  std::uint64_t shed_count() const { return shed_; }
  void close();

 private:
  friend class AcceptOp;
  // Accepts and closes one pending connection using the spare descriptor.
  enum class Shed { shed, none_pending, no_spare };
  Shed shed_one();

  int fd_ = -1;
  UniqueFd spare_fd_;
  std::uint64_t shed_ = 0;
  std::unique_ptr<IoHandle> io_;
};

}  // namespace muxio
