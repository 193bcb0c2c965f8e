#include "ftp/reply.hpp"

#include <cassert>

namespace muxio::ftp {

namespace {

// One line of reply text: CR and NUL dropped (they could end or truncate the line early in a
// client), LF turned into a space (the caller decided this is a single line).
std::string clean_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\r' || c == '\0') continue;
    out.push_back(c == '\n' ? ' ' : c);
  }
  return out;
}

// A continuation line must not look like "ddd " (the last line) to a client, which only checks
// for a leading code; a space in front of any leading digit rules that out.
std::string continuation(std::string_view line) {
  std::string cleaned = clean_line(line);
  if (cleaned.empty() || (cleaned[0] >= '0' && cleaned[0] <= '9')) cleaned.insert(0, 1, ' ');
  return cleaned;
}

void append_line(std::string& out, int code, char sep, std::string_view text) {
  assert(code >= 100 && code <= 999);
  out += std::to_string(code);
  out.push_back(sep);
  out += text;
  out += "\r\n";
}

}  // namespace

std::string format_reply(int code, std::string_view text) {
  while (!text.empty() && text.back() == '\n')
    text.remove_suffix(1);
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (auto lf = text.find('\n'); lf != std::string_view::npos; lf = text.find('\n', start)) {
    lines.push_back(text.substr(start, lf - start));
    start = lf + 1;
  }
  lines.push_back(text.substr(start));

  std::string out;
  if (lines.size() == 1) {
    append_line(out, code, ' ', clean_line(lines[0]));
    return out;
  }
  append_line(out, code, '-', clean_line(lines.front()));
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    out += continuation(lines[i]);
    out += "\r\n";
  }
  append_line(out, code, ' ', clean_line(lines.back()));
  return out;
}

std::string format_multiline(int code, std::string_view first, const std::vector<std::string>& body,
                             std::string_view last) {
  std::string out;
  append_line(out, code, '-', clean_line(first));
  for (const auto& line : body) {
    out += continuation(line);
    out += "\r\n";
  }
  append_line(out, code, ' ', clean_line(last));
  return out;
}

}  // namespace muxio::ftp
