// Bandwidth limits: per session (each transfer paced on its own) and per user (all sessions of
// one account share one bucket, across loop threads). Rates are bytes per second; 0 is no limit.
// A limited transfer sleeps on a timer between chunks, so it costs no CPU while it waits, and
// TCP flow control passes the pace on to the client.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ftpd/per_user.hpp"
#include "muxio/rate_limiter.hpp"

namespace muxio::ftpd {

struct BandwidthLimits {
  std::uint64_t session_download = 0;
  std::uint64_t session_upload = 0;
  std::uint64_t user_download = 0;
  std::uint64_t user_upload = 0;
};

// "500K", "10M", "1G" (powers of 1024) or a plain number: an amount of bytes, or of bytes per
// second for a rate.
std::optional<std::uint64_t> parse_bytes(std::string_view text);

// The per-user buckets, shared by a user's sessions and dropped with the last of them.
class UserBandwidth {
 public:
  struct Buckets {
    RateLimiter download;
    RateLimiter upload;
  };
  std::shared_ptr<Buckets> for_user(const std::string& name, const BandwidthLimits& limits);

 private:
  PerUser<Buckets> buckets_;
};

}  // namespace muxio::ftpd
