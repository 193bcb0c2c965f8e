#include "ftpd/metrics.hpp"

#include <vector>

#include "ftpd/exposition.hpp"

namespace muxio::ftpd {

namespace {

const char* const kEnded[] = {"quit", "timeout", "refused", "shutdown", "closed"};
const char* const kRefused[] = {"banned", "too_many_sessions", "too_many_from_address",
                                "too_many_for_user"};
const char* const kLogin[] = {"ok", "failed", "banned", "unavailable"};
const char* const kDirection[] = {"download", "upload"};
const char* const kResult[] = {"incomplete", "complete"};

}  // namespace

void Metrics::transfer(Direction d, bool complete, std::uint64_t bytes, double seconds) {
  add(transfers_[index(d)][complete ? 1 : 0]);
  add(transfer_bytes_[index(d)][complete ? 1 : 0], bytes);
  std::size_t b = 0;
  while (b < kDurationBounds.size() && seconds > kDurationBounds[b])
    ++b;
  add(duration_buckets_[b]);
  duration_sum_.fetch_add(seconds, std::memory_order_relaxed);
}

std::string Metrics::render(const Scrape& s) const {
  Exposition e;
  e.family("muxftpd_sessions", "gauge", "FTP control connections open now.");
  e.sample("muxftpd_sessions", static_cast<double>(s.sessions));
  e.family("muxftpd_sessions_total", "counter", "FTP control connections accepted.");
  e.sample("muxftpd_sessions_total", static_cast<double>(get(sessions_total_)));
  e.family("muxftpd_sessions_ended_total", "counter", "Sessions ended, by how they ended.");
  for (std::size_t i = 0; i < ended_.size(); ++i)
    e.sample("muxftpd_sessions_ended_total", {{"outcome", kEnded[i]}},
             static_cast<double>(get(ended_[i])));
  e.family("muxftpd_connections_refused_total", "counter",
           "Connections refused with 421 before a session started, by reason.");
  for (std::size_t i = 0; i < refused_.size(); ++i)
    e.sample("muxftpd_connections_refused_total", {{"reason", kRefused[i]}},
             static_cast<double>(get(refused_[i])));
  e.family("muxftpd_logins_total", "counter", "Login attempts, by result.");
  for (std::size_t i = 0; i < logins_.size(); ++i)
    e.sample("muxftpd_logins_total", {{"result", kLogin[i]}}, static_cast<double>(get(logins_[i])));
  e.family("muxftpd_transfers_total", "counter", "File transfers, by direction and result.");
  for (std::size_t d = 0; d < kDirections; ++d)
    for (std::size_t r = 0; r < 2; ++r)
      e.sample("muxftpd_transfers_total", {{"direction", kDirection[d]}, {"result", kResult[r]}},
               static_cast<double>(get(transfers_[d][r])));
  e.family("muxftpd_transfer_bytes_total", "counter",
           "Bytes of files transferred, by direction and result.");
  for (std::size_t d = 0; d < kDirections; ++d)
    for (std::size_t r = 0; r < 2; ++r)
      e.sample("muxftpd_transfer_bytes_total",
               {{"direction", kDirection[d]}, {"result", kResult[r]}},
               static_cast<double>(get(transfer_bytes_[d][r])));
  e.family("muxftpd_transfer_duration_seconds", "histogram", "Duration of file transfers.");
  std::vector<double> bounds(kDurationBounds.begin(), kDurationBounds.end());
  std::vector<std::uint64_t> counts;
  for (const auto& c : duration_buckets_)
    counts.push_back(get(c));
  e.histogram("muxftpd_transfer_duration_seconds", bounds, counts,
              duration_sum_.load(std::memory_order_relaxed));
  e.family("muxftpd_error_replies_total", "counter", "FTP error replies sent, by class.");
  e.sample("muxftpd_error_replies_total", {{"class", "4xx"}},
           static_cast<double>(get(error_replies_[0])));
  e.sample("muxftpd_error_replies_total", {{"class", "5xx"}},
           static_cast<double>(get(error_replies_[1])));
  e.family("muxftpd_loop_lag_seconds", "gauge",
           "How late the last once-a-second timer of each event loop fired.");
  for (std::size_t i = 0; i < loops_.size(); ++i)
    e.sample("muxftpd_loop_lag_seconds", {{"loop", std::to_string(i)}},
             loops_[i].lag_seconds.load(std::memory_order_relaxed));
  e.family("muxftpd_loop_busy_ratio", "gauge",
           "Share of the last second each event loop spent outside its wait for events.");
  for (std::size_t i = 0; i < loops_.size(); ++i)
    e.sample("muxftpd_loop_busy_ratio", {{"loop", std::to_string(i)}},
             loops_[i].busy_ratio.load(std::memory_order_relaxed));
  e.family("muxftpd_offload_queue_length", "gauge",
           "Blocking jobs (disk, password hashing) waiting for an offload thread.");
  e.sample("muxftpd_offload_queue_length", static_cast<double>(s.offload_queue));
  e.family("muxftpd_draining", "gauge", "1 after SIGTERM while sessions finish, else 0.");
  e.sample("muxftpd_draining", s.draining ? 1 : 0);
  if (s.open_fds >= 0) {
    e.family("process_open_fds", "gauge", "Number of open file descriptors.");
    e.sample("process_open_fds", static_cast<double>(s.open_fds));
  }
  if (s.max_fds >= 0) {
    e.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
    e.sample("process_max_fds", static_cast<double>(s.max_fds));
  }
  return e.text();
}

}  // namespace muxio::ftpd
