// JSON logs (log_format = "json"): one object a line. Session events (connect, login, transfer,
// error, disconnect) carry their fields; any other log line becomes {"event":"log",...}. Strings
// are escaped for JSON: quotes, backslashes and control characters; bytes that are not UTF-8 are
// replaced by U+FFFD and the raw bytes given as hex in a KEY_hex field beside the key.
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace muxio::ftpd {

// Appends "key":"value" (and "key_hex":"..." when value is not valid UTF-8) to out, with a
// leading comma unless out ends with '{'.
void json_field(std::string& out, std::string_view key, std::string_view value);
void json_number(std::string& out, std::string_view key, double value);
// value escaped into a JSON string body (no quotes); invalid UTF-8 becomes U+FFFD. Returns
// false when some bytes were replaced.
bool json_escape(std::string_view value, std::string& out);

struct SessionEvent {
  explicit SessionEvent(std::string_view name) : event(name) {}
  std::string_view event;  // connect, login, transfer, error, disconnect
  std::uint64_t session = 0;
  std::string_view client;
  std::string_view user;
  std::string_view path;
  std::optional<std::uint64_t> bytes;
  std::optional<double> duration;  // seconds
  std::string_view result;         // ok, failed, complete, incomplete, ...
  std::string_view direction;      // transfers: upload, download
  std::optional<int> code;         // errors: the reply code
  std::string_view message;
};

// The fields of a session event (without braces or time), for the JSON formatter.
std::string format_event_fields(const SessionEvent& e);

// Marks a log message as fields of a structured event (format_event_fields): the JSON formatter
// writes them as they are instead of wrapping the message.
inline constexpr char kEventMarker = '\x1e';

// Installs the JSON formatter on the logger (each line: {"time":...,"level":...,fields}).
void use_json_log_format(spdlog::logger& logger);

}  // namespace muxio::ftpd
