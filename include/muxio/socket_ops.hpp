// The readiness operations of sockets, each an awaitable that completes with its bytes:
//   co_await RecvOp   -> Result<size_t>   (0 = the peer closed its side)
//   co_await SendAllOp -> std::error_code (all bytes written, or why not)
//   co_await SendfileOp -> Result<size_t> (bytes sent from the file; short only at end of file)
//   co_await ConnectOp -> std::error_code
// On io_uring each is submitted to the ring and completes with its result.
// They allocate nothing and are awaited straight from TcpStream's members.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <span>

#include "muxio/io_handle.hpp"
#include "muxio/socket_address.hpp"
#include "muxio/unique_fd.hpp"

namespace muxio {

class RecvOp final : public IoAwaitable<RecvOp>, public CompletionOp {
 public:
  RecvOp(IoHandle* io, std::span<std::byte> buf) : IoAwaitable(io, Direction::read), buf_(buf) {}
  bool perform() override;
  CompletionRequest request() override;
  void on_completion(int result) override;
  void fail(std::error_code ec) { error_ = ec; }
  Result<std::size_t> await_resume() const {
    if (error_) return error_;
    return received_;
  }

 private:
  std::span<std::byte> buf_;
  std::size_t received_ = 0;
  std::error_code error_;
};

// Backpressure: the coroutine stays suspended until the kernel took every byte, so a peer that
// does not read holds at most the caller's buffer, never a growing queue.
class SendAllOp final : public IoAwaitable<SendAllOp>, public CompletionOp {
 public:
  SendAllOp(IoHandle* io, std::span<const std::byte> buf)
      : IoAwaitable(io, Direction::write), rest_(buf) {}
  bool perform() override;
  CompletionRequest request() override;
  void on_completion(int result) override;
  void fail(std::error_code ec) { error_ = ec; }
  std::error_code await_resume() const { return error_; }

 private:
  std::span<const std::byte> rest_;
  std::size_t sent_ = 0;
  std::error_code error_;
};

// The pipe a sendfile on io_uring goes through: the ring has no sendfile, but splice(2) from the
// file into a pipe and from the pipe into the socket moves the same pages without a copy through
// user space. Made on a stream's first sendfile and shared with the operation in flight: the
// kernel's workers look descriptors up when they run a splice, so the pipe and a duplicate of the
// socket stay open until the last completion, even when the stream is closed meanwhile (its
// descriptor number could be reused by then). A transfer that ended with bytes still in the pipe
// (cancelled halfway) leaves it dirty, and the next sendfile makes a new one.
struct SplicePipe {
  explicit SplicePipe(int socket_fd);
  bool ok() const { return static_cast<bool>(socket); }

  UniqueFd read_end;
  UniqueFd write_end;
  UniqueFd socket;  // a duplicate of the stream's socket
  std::size_t capacity = 0;
  int error = 0;  // errno if it could not be made
  bool dirty = false;
};

// Readiness backends: sendfile(2) whenever the socket is writable. io_uring: splice file -> pipe,
// splice pipe -> socket, and a poll for POLLOUT when the socket is full, each a completion. Where
// no useful pipe can be had (out of descriptors, or the user's pipe-buffer budget,
// fs.pipe-user-pages-soft, spent, so that new pipes get two pages), the ring polls for POLLOUT
// and sendfile(2) runs when it completes.
class SendfileOp final : public IoAwaitable<SendfileOp>, public CompletionOp {
 public:
  SendfileOp(IoHandle* io, std::shared_ptr<SplicePipe> pipe, int file_fd, off_t offset,
             std::size_t count);
  bool perform() override;
  CompletionRequest request() override;
  void on_completion(int result) override;
  void fail(std::error_code ec) { error_ = ec; }
  Result<std::size_t> await_resume() const {
    if (error_ && sent_ == 0) return error_;
    return sent_;
  }

 private:
  enum class Step { fill, drain, wait_writable, sendfile_when_writable };
  void next_step(int result);
  void finish(std::error_code ec);

  std::shared_ptr<SplicePipe> pipe_;
  int file_fd_;
  off_t offset_;
  std::size_t rest_;  // bytes still to take from the file
  std::size_t sent_ = 0;
  std::size_t in_pipe_ = 0;
  Step step_ = Step::fill;
  std::error_code error_;
};

// Connects a non-blocking socket: connect(2) then a wait for writability on readiness backends,
// one connect operation on io_uring.
class ConnectOp final : public IoAwaitable<ConnectOp>, public CompletionOp {
 public:
  ConnectOp(IoHandle* io, const SocketAddress& addr)
      : IoAwaitable(io, Direction::write), addr_(addr) {}
  bool perform() override;
  CompletionRequest request() override;
  void on_completion(int result) override;
  void fail(std::error_code ec) { error_ = ec; }
  std::error_code await_resume() const { return error_; }

 private:
  SocketAddress addr_;
  bool started_ = false;
  std::error_code error_;
};

}  // namespace muxio
