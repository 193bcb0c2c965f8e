// Completion-based IO (the seeds' fifth model, asynchronous IO): instead of waiting for readiness
// and then making the system call, an operation is handed to the kernel, which performs it and
// reports the result — the bytes are already in the buffer when the task resumes. A backend that
// can do this (io_uring) exposes a Proactor; operations that know how to describe themselves
// (CompletionOp) then take that path, the others keep using readiness on the same backend.
//
// An operation says *what* it wants in a CompletionRequest, a plain description with no type of
// the kernel's interface in it; the proactor's backend alone turns it into a submission (an
// io_uring SQE, in src/muxio/selectors/uring_backend.cpp), so only that file knows io_uring.
//
// Lifetime rule: an operation must outlive its completion. The kernel reads and writes the memory
// a request points to (buffers, addresses, the timeout) until the completion comes, and the
// completion is delivered to the operation itself — also after cancel(), which only asks the
// kernel to end it early: the answer (-ECANCELED, or a result that won the race) still comes.
// So an operation lives in the frame of the coroutine that awaits it and resumes that coroutine
// only from on_completion(). The one exception is the loop's destruction, where
// Proactor::abandon_all() waits for the kernel to let go of every request before frames go.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace muxio {

// A relative time as the kernel reads it (seconds and nanoseconds, both 64 bits).
struct KernelDuration {
  std::int64_t seconds = 0;
  std::int64_t nanoseconds = 0;
};

// What one submission asks the kernel to do. Every pointer in it points into the operation, which
// keeps that memory alive until the completion (the lifetime rule above). Lengths are not
// clipped by the operation: the backend caps each submission at what one system call moves.
struct CompletionRequest {
  enum class Kind : std::uint8_t {
    recv,
    send,
    read,
    write,
    accept,
    connect,
    splice,
    poll,
    timeout
  };

  Kind kind = Kind::recv;
  int fd = -1;                  // the descriptor operated on; splice: where the bytes go
  void* data = nullptr;         // recv, read: filled; send, write: only read by the kernel
  std::size_t length = 0;       // bytes for data, or for a splice
  std::int64_t offset = -1;     // read, write: file offset (-1: the file position, advanced);
                                // splice: offset in the source (-1: none, a pipe)
  int flags = 0;                // recv, send: MSG_*; accept: SOCK_*; poll: POLL* events
  int source_fd = -1;           // splice: where the bytes come from
  sockaddr* address = nullptr;  // accept: receives the peer; connect: the peer
  socklen_t* address_length = nullptr;       // accept: in: room at address, out: its size
  socklen_t connect_length = 0;              // connect: size of address
  const KernelDuration* duration = nullptr;  // timeout: how long

  static CompletionRequest recv(int fd, std::span<std::byte> buf, int msg_flags) {
    return {
        .kind = Kind::recv, .fd = fd, .data = buf.data(), .length = buf.size(), .flags = msg_flags};
  }
  static CompletionRequest send(int fd, std::span<const std::byte> buf, int msg_flags) {
    return {.kind = Kind::send,
            .fd = fd,
            .data = writable(buf.data()),
            .length = buf.size(),
            .flags = msg_flags};
  }
  static CompletionRequest read(int fd, std::span<std::byte> buf, std::int64_t offset) {
    return {
        .kind = Kind::read, .fd = fd, .data = buf.data(), .length = buf.size(), .offset = offset};
  }
  static CompletionRequest write(int fd, std::span<const std::byte> buf, std::int64_t offset) {
    return {.kind = Kind::write,
            .fd = fd,
            .data = writable(buf.data()),
            .length = buf.size(),
            .offset = offset};
  }
  static CompletionRequest accept(int fd, sockaddr* peer, socklen_t* peer_length, int sock_flags) {
    return {.kind = Kind::accept,
            .fd = fd,
            .flags = sock_flags,
            .address = peer,
            .address_length = peer_length};
  }
  static CompletionRequest connect(int fd, const sockaddr* peer, socklen_t peer_length) {
    return {.kind = Kind::connect,
            .fd = fd,
            .address = const_cast<sockaddr*>(peer),  // NOLINT
            .connect_length = peer_length};
  }
  // Moves up to length bytes from source_fd (at source_offset, -1 for a pipe) into fd.
  static CompletionRequest splice(int source_fd, std::int64_t source_offset, int fd,
                                  std::size_t length) {
    return {.kind = Kind::splice,
            .fd = fd,
            .length = length,
            .offset = source_offset,
            .source_fd = source_fd};
  }
  // Completes once when fd has one of poll_events (POLLIN, POLLOUT…); the result is the events.
  static CompletionRequest poll(int fd, int poll_events) {
    return {.kind = Kind::poll, .fd = fd, .flags = poll_events};
  }
  // Completes with -ETIME when the duration has passed.
  static CompletionRequest timeout(const KernelDuration* duration) {
    return {.kind = Kind::timeout, .duration = duration};
  }

 private:
  // Requests hold one pointer type for buffers either way; the kernel does not write to a buffer
  // it sends or writes out.
  static void* writable(const std::byte* p) { return const_cast<std::byte*>(p); }  // NOLINT
};

class CompletionOp {
 public:
  // What the kernel is to do now. Asked at each submission: an operation may be submitted again
  // (the rest of a partial send, the next step of a sendfile).
  virtual CompletionRequest request() = 0;
  // The kernel's result (bytes, a descriptor, poll events, or -errno).
  virtual void on_completion(int result) = 0;

 protected:
  ~CompletionOp() = default;
};

class Proactor {
 public:
  // Queues op; it is submitted with the loop's next wait (one system call for the whole batch).
  virtual void submit(CompletionOp* op) = 0;
  // Asks the kernel to cancel op; its completion (-ECANCELED, or a result that won) still comes.
  virtual void cancel(CompletionOp* op) = 0;
  // Closes fd. A queued request names its descriptor by number, and the kernel looks the number
  // up only when the request is submitted: closed before that, the number could be reused (by the
  // next accept, say) and a queued send would go to another client. So the requests that name fd
  // are handed to the kernel first, which then holds its own reference until they complete.
  virtual void close(int fd) = 0;
  // For the loop's destruction, before the frames of its tasks are freed: every request still
  // queued or in the kernel is cancelled, and this returns when the kernel has finished with all
  // of them (so none can still read or write a buffer in a frame). Their completions are dropped:
  // no operation is resumed. The proactor accepts no more operations afterwards.
  virtual void abandon_all() = 0;

 protected:
  ~Proactor() = default;
};

}  // namespace muxio
