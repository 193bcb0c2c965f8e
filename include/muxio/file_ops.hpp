// File reads and writes inside tasks:
//   co_await read_file_at(fd, buf, offset)   -> Result<size_t>  (0 = end of file)
//   co_await write_file_at(fd, buf, offset)  -> Result<size_t>  (offset -1: the file position)
//   co_await write_file_all(fd, buf, offset) -> std::error_code (every byte, from offset on)
//
// On io_uring the kernel performs them (its worker threads do the blocking part for buffered
// files), so a stalling disk stalls no loop: the seeds' asynchronous IO for files. Readiness
// backends cannot wait for a regular file (epoll refuses them, select and poll call them always
// ready), so there the call is simply made — the classic readiness loop's blind spot, which
// offload() (thread_pool.hpp) covers where it matters.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "muxio/completion.hpp"
#include "muxio/event_loop.hpp"
#include "muxio/result.hpp"
#include "muxio/task.hpp"
#include "muxio/task_context.hpp"

namespace muxio {

class FileOp final : public Cancellable, public CompletionOp {
 public:
  enum class Kind { read, write };
  FileOp(Kind kind, int fd, std::span<std::byte> buf, std::int64_t offset)
      : kind_(kind), fd_(fd), buf_(buf), offset_(offset) {}
  FileOp(const FileOp&) = delete;
  FileOp& operator=(const FileOp&) = delete;

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return start(context_of(h), h);
  }
  Result<std::size_t> await_resume() const {
    if (error_) return error_;
    return done_;
  }

  // The kernel is asked to cancel; the coroutine resumes with its answer (a finished read or
  // write keeps its bytes).
  void interrupt(std::error_code reason) override;
  CompletionRequest request() override;
  void on_completion(int result) override;

 private:
  bool start(TaskContext* ctx, std::coroutine_handle<> h);
  void perform_now();

  Kind kind_;
  int fd_;
  std::span<std::byte> buf_;
  std::int64_t offset_;
  std::size_t done_ = 0;
  std::error_code error_;
  std::error_code interrupted_;
  TaskContext* ctx_ = nullptr;
  Proactor* proactor_ = nullptr;
  std::coroutine_handle<> waiting_;
};

inline FileOp read_file_at(int fd, std::span<std::byte> buf, std::int64_t offset) {
  return FileOp(FileOp::Kind::read, fd, buf, offset);
}
inline FileOp write_file_at(int fd, std::span<const std::byte> buf, std::int64_t offset) {
  // The kernel only reads from buf; the shared operation type holds a mutable span.
  auto* data = const_cast<std::byte*>(buf.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  return FileOp(FileOp::Kind::write, fd, {data, buf.size()}, offset);
}

// Writes all of buf at offset (short writes continue; a full disk is an error). The offset is
// explicit on purpose: on io_uring a short write "at the file position" (offset -1) was seen to
// leave the position where it was (Linux 6.18), so the rest overwrote what had just been written
// and a resumed upload onto a full disk lost its tail with no error. On an O_APPEND descriptor
// the kernel appends whatever the offset says.
Task<std::error_code> write_file_all(int fd, std::span<const std::byte> buf, std::uint64_t offset);

}  // namespace muxio
