// Completion-based IO (the seeds' fifth model, asynchronous IO): instead of waiting for readiness
// and then making the system call, an operation is handed to the kernel, which performs it and
// reports the result — the bytes are already in the buffer when the task resumes. A backend that
// can do this (io_uring) exposes a Proactor; operations that know how to describe themselves
// (CompletionOp) then take that path, the others keep using readiness on the same backend.
#pragma once

#include <cstdint>

namespace muxio {

class CompletionOp {
 public:
  // Fills the submission (an io_uring_sqe*) for this operation.
  virtual void prepare(void* sqe) = 0;
  // The kernel's result (io_uring_cqe::res: bytes, a descriptor, or -errno).
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
