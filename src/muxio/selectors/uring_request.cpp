#include "selectors/uring_request.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace muxio {
namespace {

// No read, write, send or splice moves more than this per call (MAX_RW_COUNT), and the ring's
// length fields are 32 bits.
constexpr std::size_t kMaxPerCall = 0x7ffff000;

unsigned capped(std::size_t length) {
  return static_cast<unsigned>(std::min(length, kMaxPerCall));
}

// The kernel reads the timeout from the operation's memory when the request is submitted.
__kernel_timespec* kernel_timespec(const KernelDuration* d) {
  static_assert(sizeof(KernelDuration) == sizeof(__kernel_timespec));
  static_assert(offsetof(KernelDuration, nanoseconds) == offsetof(__kernel_timespec, tv_nsec));
  return reinterpret_cast<__kernel_timespec*>(const_cast<KernelDuration*>(d));  // NOLINT
}

}  // namespace

void prepare_submission(io_uring_sqe* sqe, const CompletionRequest& r) {
  using Kind = CompletionRequest::Kind;
  switch (r.kind) {
    case Kind::recv:
      io_uring_prep_recv(sqe, r.fd, r.data, capped(r.length), r.flags);
      return;
    case Kind::send:
      io_uring_prep_send(sqe, r.fd, r.data, capped(r.length), r.flags);
      return;
    case Kind::read:
      // Offset -1 means "at the file position, and advance it" (Linux 5.6,
      // IORING_FEAT_RW_CUR_POS); O_APPEND files append either way.
      io_uring_prep_read(sqe, r.fd, r.data, capped(r.length), static_cast<std::uint64_t>(r.offset));
      return;
    case Kind::write:
      io_uring_prep_write(sqe, r.fd, r.data, capped(r.length),
                          static_cast<std::uint64_t>(r.offset));
      return;
    case Kind::accept:
      io_uring_prep_accept(sqe, r.fd, r.address, r.address_length, r.flags);
      return;
    case Kind::connect:
      io_uring_prep_connect(sqe, r.fd, r.address, r.connect_length);
      return;
    case Kind::splice:
      io_uring_prep_splice(sqe, r.source_fd, r.offset, r.fd, -1, capped(r.length), 0);
      return;
    case Kind::poll:
      io_uring_prep_poll_add(sqe, r.fd, static_cast<unsigned>(r.flags));
      return;
    case Kind::timeout:
      io_uring_prep_timeout(sqe, kernel_timespec(r.duration), 0, 0);
      return;
  }
}

}  // namespace muxio
