#include "ftp/time_format.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace muxio::ftp {

namespace {

namespace chr = std::chrono;

// The value of s[pos, pos+len) if it is all digits.
std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t len) {
  int v = 0;
  for (char c : s.substr(pos, len)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool valid_fraction(std::string_view frac) {
  if (frac.empty()) return true;
  if (frac.front() != '.' || frac.size() == 1) return false;
  return std::all_of(frac.begin() + 1, frac.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

CivilTime to_civil_utc(std::int64_t unix_seconds) {
  const auto t = std::clamp(unix_seconds, kMinTimestamp, kMaxTimestamp);
  const chr::sys_seconds tp{chr::seconds{t}};
  const auto day = chr::floor<chr::days>(tp);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss hms{tp - day};
  return {static_cast<int>(ymd.year()),
          static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())),
          static_cast<int>(hms.hours().count()),
          static_cast<int>(hms.minutes().count()),
          static_cast<int>(hms.seconds().count())};
}

std::string format_mdtm(std::int64_t unix_seconds) {
  const CivilTime c = to_civil_utc(unix_seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  return buf;
}

std::optional<std::int64_t> parse_mdtm(std::string_view s) {
  if (s.size() < 14 || !valid_fraction(s.substr(14))) return std::nullopt;
  const auto year = digits(s, 0, 4), month = digits(s, 4, 2), day = digits(s, 6, 2);
  const auto hour = digits(s, 8, 2), minute = digits(s, 10, 2), second = digits(s, 12, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*year == 0 || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;

  const chr::year_month_day ymd{chr::year{*year}, chr::month{static_cast<unsigned>(*month)},
                                chr::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok()) return std::nullopt;  // month 13, Feb 30, Feb 29 of a common year...
  const auto tp =
      chr::sys_days{ymd} + chr::hours{*hour} + chr::minutes{*minute} + chr::seconds{*second};
  return chr::duration_cast<chr::seconds>(tp.time_since_epoch()).count();
}

}  // namespace muxio::ftp
