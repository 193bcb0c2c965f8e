// What one thread of ftp-load measured, merged into the run's summary: operations, bytes,
// per-operation latencies (for p50/p99) and failures counted by reason.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "reactor.hpp"

namespace ftp_load {

struct Stats {
  std::uint64_t ops = 0;
  std::uint64_t bytes = 0;
  std::vector<std::uint32_t> latency_us;
  std::map<std::string, std::uint64_t> failures;
  Nanos last_end = 0;

  void record(Nanos start, Nanos end, std::uint64_t op_bytes);
  void fail(const std::string& reason) { ++failures[reason]; }
  void merge(const Stats& other);
  std::uint64_t failure_count() const;
};

// The p-th percentile (0..100) of the latencies, in milliseconds; sorts them.
double percentile_ms(std::vector<std::uint32_t>& latency_us, double p);

}  // namespace ftp_load
