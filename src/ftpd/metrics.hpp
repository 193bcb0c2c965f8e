// Metrics: the server's counters, gauges and histogram for Prometheus. Sessions on every loop
// update them with relaxed atomics (no lock, no ordering needed: a scrape is a snapshot of
// independent counters); the per-loop gauges are written by each loop's own sampler and read at
// scrape. render() writes the text exposition format (exposition.hpp).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <string>

namespace muxio::ftpd {

class Metrics {
 public:
  enum class Ended { quit, timeout, refused, shutdown, closed, count };
  enum class Refused { banned, too_many_sessions, too_many_from_address, too_many_for_user, count };
  enum class Login { ok, failed, banned, unavailable, count };
  enum class Direction { download, upload, count };

  struct LoopGauges {
    std::atomic<double> lag_seconds{0};
    std::atomic<double> busy_ratio{0};
  };
  // What render() reads besides the counters, gathered by the caller.
  struct Scrape {
    std::uint64_t sessions = 0;
    std::uint64_t offload_queue = 0;
    std::int64_t open_fds = -1;  // -1: unknown
    std::int64_t max_fds = -1;
    bool draining = false;
  };

  static constexpr std::array<double, 14> kDurationBounds = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

  void session_started() { add(sessions_total_); }
  void session_ended(Ended how) { add(ended_[index(how)]); }
  void connection_refused(Refused why) { add(refused_[index(why)]); }
  void login(Login result) { add(logins_[index(result)]); }
  void transfer(Direction d, bool complete, std::uint64_t bytes, double seconds);
  void reply_code(int code) {
    if (code >= 400 && code < 600) add(error_replies_[code < 500 ? 0 : 1]);
  }

  // One entry per loop, made before the loops run.
  void set_loop_count(std::size_t n) { loops_.resize(n); }
  LoopGauges& loop(std::size_t i) { return loops_[i]; }

  std::string render(const Scrape& s) const;

 private:
  template <class E>
  static constexpr std::size_t index(E e) {
    return static_cast<std::size_t>(e);
  }
  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  static std::uint64_t get(const std::atomic<std::uint64_t>& c) {
    return c.load(std::memory_order_relaxed);
  }

  static constexpr std::size_t kDirections = static_cast<std::size_t>(Direction::count);
  std::atomic<std::uint64_t> sessions_total_{0};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Ended::count)> ended_{};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Refused::count)> refused_{};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Login::count)> logins_{};
  // [direction][complete?1:0]
  std::array<std::array<std::atomic<std::uint64_t>, 2>, kDirections> transfers_{};
  std::array<std::array<std::atomic<std::uint64_t>, 2>, kDirections> transfer_bytes_{};
  std::array<std::atomic<std::uint64_t>, kDurationBounds.size() + 1> duration_buckets_{};
  std::atomic<double> duration_sum_{0};
  std::array<std::atomic<std::uint64_t>, 2> error_replies_{};  // 4xx, 5xx
  std::deque<LoopGauges> loops_;
};

}  // namespace muxio::ftpd
