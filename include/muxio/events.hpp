// The readiness mask shared by every backend, like selectors.EVENT_READ / EVENT_WRITE.
#pragma once

#include <cstdint>
#include <string>

namespace muxio {

using Events = std::uint32_t;

inline constexpr Events kReadable = 1u << 0;
inline constexpr Events kWritable = 1u << 1;
// Reported, never requested: the descriptor has an error pending or is no longer valid.
inline constexpr Events kError = 1u << 2;
// Reported, never requested: the peer hung up (both directions closed).
inline constexpr Events kHangup = 1u << 3;
// Reported, never requested: the peer closed its sending side (EPOLLRDHUP, POLLRDHUP); reads
// return what is left, then end of stream.
inline constexpr Events kPeerClosed = 1u << 4;

std::string events_to_string(Events e);

}  // namespace muxio
