// Stream: a connected byte stream as application code sees it. TcpStream implements it today;
// a TLS stream wraps another Stream tomorrow, and code written against Stream& does not change.
#pragma once

#include <cstddef>
#include <span>
#include <system_error>

#include "muxio/result.hpp"
#include "muxio/task.hpp"

namespace muxio {

class Stream {
 public:
  virtual ~Stream() = default;
  // Reads what is available, at most buf.size() bytes; 0 means the peer closed its side.
  virtual Task<Result<std::size_t>> read_some(std::span<std::byte> buf) = 0;
  // Writes every byte, suspending while the peer does not keep up (backpressure).
  virtual Task<std::error_code> write_all(std::span<const std::byte> buf) = 0;
  // Ends the sending side (the peer reads end of stream); reading remains possible.
  virtual Task<std::error_code> shutdown() = 0;
  // Releases the connection at once; operations waiting on it complete with ECANCELED.
  virtual void close() = 0;
};

}  // namespace muxio
