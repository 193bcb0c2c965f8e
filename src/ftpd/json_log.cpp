#include "ftpd/json_log.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/sink.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace muxio::ftpd {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 (overlongs, surrogates, > U+10FFFF refused).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  std::size_t n = c < 0x80           ? 1
                  : (c >> 5) == 0x6  ? 2
                  : (c >> 4) == 0xe  ? 3
                  : (c >> 3) == 0x1e ? 4
                                     : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xc2) return 0;
  if (n == 3) {
    if (c == 0xe0 && b(1) < 0xa0) return 0;
    if (c == 0xed && b(1) >= 0xa0) return 0;  // surrogates
  }
  if (n == 4) {
    if (c == 0xf0 && b(1) < 0x90) return 0;
    if (c > 0xf4 || (c == 0xf4 && b(1) >= 0x90)) return 0;
  }
  return n;
}

void comma(std::string& out) {
  if (!out.empty() && out.back() != '{') out += ',';
}

const char* level_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{";
    auto t = std::chrono::system_clock::to_time_t(msg.time);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char when[40];
    std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    json_field(line, "time", when);
    json_field(line, "level", level_name(msg.level));
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!payload.empty() && payload[0] == kEventMarker) {
      line += ',';
      line += payload.substr(1);
    } else {
      json_field(line, "event", "log");
      json_field(line, "message", payload);
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

bool json_escape(std::string_view value, std::string& out) {
  bool clean = true;
  for (std::size_t i = 0; i < value.size();) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    std::size_t n = utf8_length(value, i);
    if (n == 0) {
      out += "\\ufffd";
      clean = false;
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(value.substr(i, n));
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
    i += n;
  }
  return clean;
}

void json_field(std::string& out, std::string_view key, std::string_view value) {
  comma(out);
  out += '"';
  out += key;
  out += "\":\"";
  bool clean = json_escape(value, out);
  out += '"';
  if (!clean) {
    static const char kHex[] = "0123456789abcdef";
    out += ",\"";
    out += key;
    out += "_hex\":\"";
    for (unsigned char c : value) {
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    out += '"';
  }
}

void json_number(std::string& out, std::string_view key, double value) {
  comma(out);
  char buf[40];
  if (value == static_cast<double>(static_cast<long long>(value))) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(value));
  } else {
    std::snprintf(buf, sizeof buf, "%.6f", value);
  }
  out += '"';
  out += key;
  out += "\":";
  out += buf;
}

std::string format_event_fields(const SessionEvent& e) {
  std::string out;
  json_field(out, "event", e.event);
  json_number(out, "session", static_cast<double>(e.session));
  json_field(out, "client", e.client);
  if (!e.user.empty()) json_field(out, "user", e.user);
  if (!e.path.empty()) json_field(out, "path", e.path);
  if (!e.direction.empty()) json_field(out, "direction", e.direction);
  if (e.bytes) json_number(out, "bytes", static_cast<double>(*e.bytes));
  if (e.duration) json_number(out, "duration", *e.duration);
  if (e.code) json_number(out, "code", *e.code);
  if (!e.result.empty()) json_field(out, "result", e.result);
  if (!e.message.empty()) json_field(out, "message", e.message);
  return out;
}

void use_json_log_format(spdlog::logger& logger) {
  for (auto& sink : logger.sinks())
    sink->set_formatter(std::make_unique<JsonFormatter>());
}

}  // namespace muxio::ftpd
