// Timestamps as FTP writes them (RFC 3659 §2.3 "time-val"): YYYYMMDDHHMMSS, always UTC, for MDTM,
// MFMT and the MLSx "modify" fact. Pure calendar arithmetic (std::chrono), no time zone, no
// global state, so it is thread-safe and independent of TZ.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace muxio::ftp {

// Years outside 1..9999 do not fit four digits; timestamps are clamped to that range.
inline constexpr std::int64_t kMinTimestamp = -62135596800;  // 0001-01-01 00:00:00 UTC
inline constexpr std::int64_t kMaxTimestamp = 253402300799;  // 9999-12-31 23:59:59 UTC

// Broken-down UTC time of a (clamped) unix timestamp.
struct CivilTime {
  int year, month, day, hour, minute, second;
};
CivilTime to_civil_utc(std::int64_t unix_seconds);

// "20261123123456" UTC.
std::string format_mdtm(std::int64_t unix_seconds);

// "YYYYMMDDHHMMSS" with an optional ".sss" fraction (one or more digits, ignored); UTC. Every
// field is range-checked, including the day against the month and leap years (no Feb 30);
// second 60 (a leap second) is accepted and lands on the next minute. Year 0000 is refused.
std::optional<std::int64_t> parse_mdtm(std::string_view s);

}  // namespace muxio::ftp
