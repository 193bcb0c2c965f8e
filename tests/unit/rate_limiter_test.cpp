// RateLimiter: pacing arithmetic with an injected clock, the burst cap, several senders sharing
// one bucket, and the unlimited case.
#include <gtest/gtest.h>

#include <thread>

#include "muxio/rate_limiter.hpp"

namespace muxio {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, UnlimitedNeverWaits) {
  RateLimiter r;
  EXPECT_FALSE(r.limited());
  EXPECT_EQ(r.reserve(1 << 30), Duration::zero());
  EXPECT_EQ(r.chunk(4 << 20), std::size_t{4 << 20});
}

TEST(RateLimiter, PacesToTheRateAfterTheBurst) {
  RateLimiter r(1000, 100);  // 1000 B/s, 100 B of credit
  TimePoint t0 = Clock::now();
  EXPECT_EQ(r.reserve(100, t0), Duration::zero()) << "the burst is free";
  EXPECT_EQ(r.reserve(500, t0), std::chrono::duration_cast<Duration>(500ms));
  // Half a second later the debt is paid; the next 250 B wait a quarter second.
  EXPECT_EQ(r.reserve(250, t0 + 500ms), std::chrono::duration_cast<Duration>(250ms));
}

TEST(RateLimiter, CreditNeverExceedsTheBurst) {
  RateLimiter r(1000, 100);
  TimePoint t0 = Clock::now();
  (void)r.reserve(100, t0);
  // An hour idle earns at most the burst, not 3.6 MB.
  EXPECT_EQ(r.reserve(100, t0 + 1h), Duration::zero());
  EXPECT_GT(r.reserve(1, t0 + 1h), Duration::zero());
}

TEST(RateLimiter, ChunksAreATenthOfASecond) {
  RateLimiter r(10'000'000);
  EXPECT_EQ(r.chunk(4 << 20), std::size_t{1'000'000});
  RateLimiter slow(1000);
  EXPECT_EQ(slow.chunk(4 << 20), std::size_t{1024}) << "at least 1 KiB";
}

TEST(RateLimiter, SendersSharingABucketShareTheRate) {
  RateLimiter r(1'000'000, 1);
  TimePoint t0 = Clock::now();
  std::vector<std::thread> senders;
  std::atomic<std::int64_t> max_wait_ns{0};
  for (int i = 0; i < 4; ++i) {
    senders.emplace_back([&] {
      for (int k = 0; k < 250; ++k) {
        auto w = r.reserve(1000, t0).count();
        std::int64_t seen = max_wait_ns.load();
        while (w > seen && !max_wait_ns.compare_exchange_weak(seen, w)) {
        }
      }
    });
  }
  for (auto& t : senders)
    t.join();
  // 1 MB reserved at one instant at 1 MB/s: the last reservation waits about a second.
  auto last = std::chrono::nanoseconds(max_wait_ns.load());
  EXPECT_GT(last, 990ms);
  EXPECT_LT(last, 1010ms);
}

TEST(RateLimiter, SetRateResets) {
  RateLimiter r(1000, 100);
  TimePoint t0 = Clock::now();
  EXPECT_GT(r.reserve(10'000, t0), 5s);
  r.set_rate(0);
  EXPECT_EQ(r.reserve(10'000, t0), Duration::zero());
}

}  // namespace
}  // namespace muxio
