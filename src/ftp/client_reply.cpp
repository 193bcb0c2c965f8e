#include "ftp/client_reply.hpp"

#include <cctype>
#include <cstdint>

#include "ftp/host_port.hpp"

namespace muxio::ftp {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The code of a line that starts with three digits (100..599), or 0.
int code_of(std::string_view line) {
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) return 0;
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return 0;
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  return code >= 100 && code <= 599 ? code : 0;
}

std::string_view after_code(std::string_view line) {
  return line.size() > 4 ? line.substr(4) : std::string_view{};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::string Reply::text() const {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    std::string_view l = lines[i];
    bool coded = (i == 0 || i + 1 == lines.size()) && code_of(l) == code;
    out += coded ? after_code(l) : l;
  }
  return out;
}

ReplyAssembler::Status ReplyAssembler::add_line(std::string_view line, Reply* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!open_) {
    int code = code_of(line);
    if (code == 0) return Status::malformed;
    current_ = Reply{code, {std::string(line)}};
    if (line.size() > 3 && line[3] == '-') {
      open_ = true;
      return Status::need_more;
    }
    *out = std::move(current_);
    current_ = {};
    return Status::complete;
  }
  bool last = code_of(line) == current_.code && (line.size() == 3 || line[3] == ' ');
  if (last || current_.lines.size() < kMaxLines) current_.lines.emplace_back(line);
  if (!last) return Status::need_more;
  open_ = false;
  *out = std::move(current_);
  current_ = {};
  return Status::complete;
}

muxio::Result<muxio::SocketAddress> parse_pasv_reply(std::string_view text) {
  auto open = text.find('(');
  std::size_t start = open == std::string_view::npos ? 0 : open + 1;
  while (start < text.size() && !is_digit(text[start]))
    ++start;
  std::size_t end = start;
  while (end < text.size() && (is_digit(text[end]) || text[end] == ','))
    ++end;
  if (start >= text.size()) return muxio::Error::bad_address;
  return parse_port_arg(text.substr(start, end - start));
}

std::optional<std::uint16_t> parse_epsv_reply(std::string_view text) {
  auto open = text.find('(');
  if (open == std::string_view::npos || open + 5 > text.size()) return std::nullopt;
  std::string_view s = text.substr(open + 1);
  char d = s[0];
  if (d < 33 || d > 126 || is_digit(d) || s[1] != d || s[2] != d) return std::nullopt;
  std::size_t i = 3;
  std::uint32_t port = 0;
  std::size_t digits = 0;
  while (i < s.size() && is_digit(s[i])) {
    port = port * 10 + static_cast<std::uint32_t>(s[i] - '0');
    if (++digits > 5) return std::nullopt;
    ++i;
  }
  if (digits == 0 || i >= s.size() || s[i] != d || port == 0 || port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

std::optional<std::string> parse_quoted_path(std::string_view text) {
  auto q = text.find('"');
  if (q == std::string_view::npos) return std::nullopt;
  std::string out;
  for (std::size_t i = q + 1; i < text.size(); ++i) {
    if (text[i] != '"') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '"') {
      out += '"';
      ++i;
      continue;
    }
    return out;
  }
  return std::nullopt;  // no closing quote
}

std::map<std::string, std::string> parse_feat(const Reply& reply) {
  std::map<std::string, std::string> features;
  if (reply.code != 211 || reply.lines.size() < 3) return features;
  for (std::size_t i = 1; i + 1 < reply.lines.size(); ++i) {
    std::string_view l = trim(reply.lines[i]);
    if (l.empty()) continue;
    auto sp = l.find(' ');
    std::string name(l.substr(0, sp));
    for (char& c : name)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string params =
        sp == std::string_view::npos ? std::string{} : std::string(trim(l.substr(sp)));
    features[name] = params;
  }
  return features;
}

std::optional<std::uint64_t> parse_size_reply(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;  // overflow
    v = v * 10 + d;
  }
  return v;
}

namespace {
// The next space-separated word of *text, which loses it and the space after it.
std::string_view next_word(std::string_view* text) {
  const auto space = text->find(' ');
  const auto word = text->substr(0, space);
  text->remove_prefix(space == std::string_view::npos ? text->size() : space + 1);
  return word;
}
}  // namespace

std::optional<HashReply> parse_hash_reply(std::string_view text) {
  text = trim(text);
  HashReply r;
  r.algorithm = std::string(next_word(&text));
  const std::string_view range = next_word(&text);
  const std::string_view digest = next_word(&text);
  const auto dash = range.find('-');
  if (r.algorithm.empty() || dash == std::string_view::npos || digest.empty()) return std::nullopt;
  auto start = parse_size_reply(range.substr(0, dash));
  auto end = parse_size_reply(range.substr(dash + 1));
  if (!start || !end || *start > *end) return std::nullopt;
  r.start = *start;
  r.end = *end;
  for (char c : digest) {
    const bool hex = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return std::nullopt;
    r.digest += static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  }
  return r;
}

std::optional<std::string> command_line(std::string_view verb, std::string_view arg) {
  for (char c : arg)
    if (c == '\r' || c == '\n' || c == '\0') return std::nullopt;
  std::string line(verb);
  if (!arg.empty()) {
    line += ' ';
    line += arg;
  }
  line += "\r\n";
  return line;
}

}  // namespace muxio::ftp
