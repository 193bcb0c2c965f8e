#include "stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ftp_load {

void Stats::record(Nanos start, Nanos end, std::uint64_t op_bytes) {
  ++ops;
  bytes += op_bytes;
  Nanos us = (end - start) / 1000;
  latency_us.push_back(
      static_cast<std::uint32_t>(std::min<Nanos>(us, std::numeric_limits<std::uint32_t>::max())));
  last_end = std::max(last_end, end);
}

void Stats::merge(const Stats& other) {
  ops += other.ops;
  bytes += other.bytes;
  latency_us.insert(latency_us.end(), other.latency_us.begin(), other.latency_us.end());
  for (const auto& [reason, n] : other.failures)
    failures[reason] += n;
  last_end = std::max(last_end, other.last_end);
}

std::uint64_t Stats::failure_count() const {
  std::uint64_t n = 0;
  for (const auto& [reason, count] : failures)
    n += count;
  return n;
}

double percentile_ms(std::vector<std::uint32_t>& latency_us, double p) {
  if (latency_us.empty()) return 0;
  std::sort(latency_us.begin(), latency_us.end());
  // Nearest rank: the smallest value with at least p % of the values at or below it.
  auto rank =
      static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(latency_us.size())));
  rank = std::clamp<std::size_t>(rank, 1, latency_us.size());
  return latency_us[rank - 1] / 1000.0;
}

}  // namespace ftp_load
