#include "muxio/rate_limiter.hpp"

#include <algorithm>

namespace muxio {

RateLimiter::RateLimiter(std::uint64_t bytes_per_second, std::uint64_t burst) {
  set_rate(bytes_per_second, burst);
}

void RateLimiter::set_rate(std::uint64_t bytes_per_second, std::uint64_t burst) {
  std::lock_guard lock(mutex_);
  rate_ = bytes_per_second;
  burst_ = static_cast<double>(burst != 0 ? burst : std::max<std::uint64_t>(rate_ / 10, 4096));
  credit_ = burst_;
  last_ = TimePoint{};
}

std::uint64_t RateLimiter::rate() const {
  std::lock_guard lock(mutex_);
  return rate_;
}

void RateLimiter::refill(TimePoint now) {
  if (last_ == TimePoint{}) last_ = now;
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  credit_ = std::min(burst_, credit_ + elapsed * static_cast<double>(rate_));
  last_ = now;
}

Duration RateLimiter::reserve(std::uint64_t n, TimePoint now) {
  std::lock_guard lock(mutex_);
  if (rate_ == 0) return Duration::zero();
  refill(now);
  credit_ -= static_cast<double>(n);
  if (credit_ >= 0) return Duration::zero();
  auto wait = std::chrono::duration<double>(-credit_ / static_cast<double>(rate_));
  return std::chrono::duration_cast<Duration>(wait);
}

std::size_t RateLimiter::chunk(std::size_t wanted) const {
  std::lock_guard lock(mutex_);
  if (rate_ == 0) return wanted;
  // Small enough at slow rates that a chunk never takes longer than a second or so, which a
  // stall watchdog would take for a dead transfer.
  auto piece = std::max<std::uint64_t>(rate_ / 10, 1024);
  return static_cast<std::size_t>(std::min<std::uint64_t>(wanted, piece));
}

}  // namespace muxio
