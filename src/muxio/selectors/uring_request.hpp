// The translation of an operation's CompletionRequest into an io_uring submission: the one place,
// with uring_backend.cpp, that knows the ring's request format.
#pragma once

#include <liburing.h>

#include "muxio/completion.hpp"

namespace muxio {

// Fills sqe for request (user_data is the caller's). Lengths are capped at what one system call
// moves, so a longer buffer completes short and its operation submits the rest.
void prepare_submission(io_uring_sqe* sqe, const CompletionRequest& request);

}  // namespace muxio
