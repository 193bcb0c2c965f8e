#include "ftpc/json_summary.hpp"

#include <cstdio>

namespace muxio::ftpc {

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string job_json(const Job& j) {
  const char* state = j.state == JobState::done      ? "done"
                      : j.state == JobState::skipped ? "skipped"
                      : j.state == JobState::failed  ? "failed"
                                                     : "not-started";
  std::uint64_t moved = j.position > j.start_offset ? j.position - j.start_offset : 0;
  char nums[160];
  std::snprintf(nums, sizeof nums,
                "\"bytes\":%llu,\"offset\":%llu,\"seconds\":%.3f,\"attempts\":%d",
                static_cast<unsigned long long>(moved),
                static_cast<unsigned long long>(j.start_offset), j.seconds, j.attempts);
  std::string out = std::string("{\"direction\":\"") +
                    (j.direction == JobKind::get ? "get" : "put") + "\",\"remote\":\"" +
                    json_escape(j.remote) + "\",\"local\":\"" + json_escape(j.local) +
                    "\",\"status\":\"" + state + "\"," + nums;
  if (j.total_bytes()) out += ",\"size\":" + std::to_string(*j.total_bytes());
  if (!j.error.empty()) out += ",\"error\":\"" + json_escape(j.error) + "\"";
  if (!j.verified_by.empty()) out += ",\"verified_by\":\"" + json_escape(j.verified_by) + "\"";
  out += "}";
  return out;
}

std::string json_summary(const std::string& files, double seconds, int status, bool interrupted) {
  char tail[128];
  std::snprintf(tail, sizeof tail, "],\"seconds\":%.3f,\"status\":%d,\"interrupted\":%s}\n",
                seconds, status, interrupted ? "true" : "false");
  return "{\"files\":[" + files + tail;
}

}  // namespace muxio::ftpc
