#include "ftp/command.hpp"

namespace muxio::ftp {

namespace {

// RFC 854 command bytes.
constexpr unsigned char kIac = 255;
constexpr unsigned char kDont = 254;
constexpr unsigned char kWill = 251;
constexpr unsigned char kSb = 250;
constexpr unsigned char kSe = 240;
constexpr std::size_t kMaxVerb = 8;

bool is_ascii_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

// Index just past the IAC SE that ends a subnegotiation starting at `from`, or the end of `s`.
std::size_t skip_subnegotiation(std::string_view s, std::size_t from) {
  for (std::size_t i = from; i + 1 < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) == kIac) {
      if (static_cast<unsigned char>(s[i + 1]) == kSe) return i + 2;
      ++i;  // IAC IAC inside the subnegotiation is data, not the start of IAC SE
    }
  }
  return s.size();
}

}  // namespace

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string strip_telnet(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  std::size_t i = 0;
  while (i < line.size()) {
    if (static_cast<unsigned char>(line[i]) != kIac) {
      out.push_back(line[i++]);
      continue;
    }
    if (i + 1 >= line.size()) break;  // lone IAC at the end
    const auto cmd = static_cast<unsigned char>(line[i + 1]);
    if (cmd == kIac) {
      out.push_back(line[i]);
      i += 2;
    } else if (cmd >= kWill && cmd <= kDont) {
      i += 3;  // option negotiation: IAC verb option
    } else if (cmd == kSb) {
      i = skip_subnegotiation(line, i + 2);
    } else {
      i += 2;  // IP, DM, AO, AYT, EC, EL, GA, NOP, BRK, or an undefined byte
    }
  }
  return out;
}

std::variant<Command, ParseError> parse_command(std::string_view line) {
  if (line.empty()) return ParseError::empty;
  if (line.find('\0') != std::string_view::npos) return ParseError::nul_byte;
  if (line.size() > kMaxCommandLine) return ParseError::too_long;

  std::size_t n = 0;
  while (n < line.size() && is_ascii_alnum(line[n]))
    ++n;
  if (n == 0 || n > kMaxVerb) return ParseError::bad_verb;
  if (n < line.size() && line[n] != ' ') return ParseError::bad_verb;

  Command cmd;
  cmd.verb.reserve(n);
  for (char c : line.substr(0, n))
    cmd.verb.push_back(ascii_upper(c));
  if (n < line.size()) cmd.arg.assign(line.substr(n + 1));
  return cmd;
}

std::variant<Command, ParseError> parse_command_line(std::string_view raw_line) {
  return parse_command(strip_telnet(raw_line));
}

}  // namespace muxio::ftp
