// TcpStream: a connected TCP socket on a loop. Owns the descriptor (closed on destruction) and
// its IoHandle. Move-only; loop thread only.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string_view>

#include "muxio/socket_address.hpp"
#include "muxio/socket_ops.hpp"
#include "muxio/stream.hpp"

namespace muxio {

class TcpStream final : public Stream {
 public:
  TcpStream() = default;
  // Adopts a connected non-blocking socket.
  TcpStream(EventLoop& loop, int fd);
  TcpStream(TcpStream&& other) noexcept;
  TcpStream& operator=(TcpStream&& other) noexcept;
  ~TcpStream() override;

  // Connects to addr. Bound it with with_timeout(d, TcpStream::connect(...)).
  static Task<Result<TcpStream>> connect(EventLoop& loop, SocketAddress addr);

  // Zero-allocation awaitables; the Stream interface forwards to them.
  RecvOp recv(std::span<std::byte> buf) { return RecvOp(io_.get(), buf); }
  SendAllOp send_all(std::span<const std::byte> buf) { return SendAllOp(io_.get(), buf); }
  SendAllOp send_all(std::string_view s) {
    return send_all(std::as_bytes(std::span<const char>(s.data(), s.size())));
  }
  // Sends count bytes of file_fd from offset with sendfile(2), or splice(2) on io_uring: no copy
  // through user space.
  SendfileOp sendfile(int file_fd, off_t offset, std::size_t count) {
    return SendfileOp(io_.get(), splice_pipe(), file_fd, offset, count);
  }

  Task<Result<std::size_t>> read_some(std::span<std::byte> buf) override;
  Task<std::error_code> write_all(std::span<const std::byte> buf) override;
  Task<std::error_code> shutdown() override;
  void close() override;
  // Closes with a TCP reset (SO_LINGER {1, 0}) instead of a FIN: for a transfer that ended
  // early, whose peer would take a FIN for the end of complete data. Same safe close path as
  // close() (on io_uring, requests still queued for the descriptor are dealt with first).
  void abort();

  std::error_code shutdown_write();
  // Both ways (SHUT_RDWR), to end a connection whose peer does not read: a send waiting for room
  // fails and a receive sees the end, on every backend; the descriptor stays open.
  std::error_code shutdown_both();
  std::error_code set_nodelay(bool on);
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  Result<SocketAddress> local_address() const { return SocketAddress::local_of(fd_); }
  Result<SocketAddress> peer_address() const { return SocketAddress::peer_of(fd_); }

 private:
  // The pipe sendfile splices through, on io_uring only (nullptr on readiness backends).
  std::shared_ptr<SplicePipe> splice_pipe();

  int fd_ = -1;
  std::unique_ptr<IoHandle> io_;
  std::shared_ptr<SplicePipe> splice_pipe_;
};

}  // namespace muxio
