// RateLimiter: a token bucket that paces a byte stream to a rate, for bandwidth limits.
//
// A sender asks reserve(n) before sending n bytes and waits the duration it returns (with
// sleep_for), so a limited transfer sleeps on a timer instead of spinning. The bucket holds at
// most one `burst` of credit; reservations beyond the credit go into debt, which later
// reservations wait out. One bucket may pace several transfers at once (all sessions of one
// user, on several loop threads): it locks.
#pragma once

#include <cstdint>
#include <mutex>

#include "muxio/clock.hpp"

namespace muxio {

class RateLimiter {
 public:
  // bytes_per_second 0 means unlimited; burst 0 means a tenth of a second's worth.
  explicit RateLimiter(std::uint64_t bytes_per_second = 0, std::uint64_t burst = 0);

  void set_rate(std::uint64_t bytes_per_second, std::uint64_t burst = 0);
  std::uint64_t rate() const;
  bool limited() const { return rate() != 0; }

  // Takes n bytes of credit; returns how long to wait before sending them (zero when the credit
  // covered them). `now` is injectable for tests.
  Duration reserve(std::uint64_t n, TimePoint now = Clock::now());

  // The largest piece a sender should reserve at once, so that pacing stays smooth (a tenth of a
  // second's worth, at least 1 KiB); `wanted` when unlimited.
  std::size_t chunk(std::size_t wanted) const;

 private:
  void refill(TimePoint now);

  mutable std::mutex mutex_;
  std::uint64_t rate_ = 0;
  double burst_ = 0;
  double credit_ = 0;  // bytes; negative while in debt
  TimePoint last_{};
};

}  // namespace muxio
