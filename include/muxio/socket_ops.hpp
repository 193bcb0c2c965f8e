// The readiness operations of sockets, each an awaitable that completes with its bytes:
//   co_await RecvOp   -> Result<size_t>   (0 = the peer closed its side)
//   co_await SendAllOp -> std::error_code (all bytes written, or why not)
//   co_await SendfileOp -> Result<size_t> (bytes sent from the file; short only at end of file)
//   co_await ConnectOp -> std::error_code
// They allocate nothing and are awaited straight from TcpStream's members.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>

#include "muxio/io_handle.hpp"

namespace muxio {

class RecvOp final : public IoAwaitable<RecvOp>, public CompletionOp {
 public:
  RecvOp(IoHandle* io, std::span<std::byte> buf) : IoAwaitable(io, Direction::read), buf_(buf) {}
  bool perform() override;
  void prepare(void* sqe) override;
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
  void prepare(void* sqe) override;
  void on_completion(int result) override;
  void fail(std::error_code ec) { error_ = ec; }
  std::error_code await_resume() const { return error_; }

 private:
  std::span<const std::byte> rest_;
  std::size_t sent_ = 0;
  std::error_code error_;
};

class SendfileOp final : public IoAwaitable<SendfileOp> {
 public:
  SendfileOp(IoHandle* io, int file_fd, off_t offset, std::size_t count)
      : IoAwaitable(io, Direction::write), file_fd_(file_fd), offset_(offset), rest_(count) {}
  bool perform() override;
  void fail(std::error_code ec) { error_ = ec; }
  Result<std::size_t> await_resume() const {
    if (error_ && sent_ == 0) return error_;
    return sent_;
  }

 private:
  int file_fd_;
  off_t offset_;
  std::size_t rest_;
  std::size_t sent_ = 0;
  std::error_code error_;
};

// Waits for a non-blocking connect(2) that returned EINPROGRESS to finish.
class ConnectOp final : public IoAwaitable<ConnectOp> {
 public:
  explicit ConnectOp(IoHandle* io) : IoAwaitable(io, Direction::write) {}
  bool perform() override;
  void fail(std::error_code ec) { error_ = ec; }
  std::error_code await_resume() const { return error_; }

 private:
  bool started_ = false;
  std::error_code error_;
};

}  // namespace muxio
