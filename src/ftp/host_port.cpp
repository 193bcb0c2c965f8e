#include "ftp/host_port.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>
#include <optional>

namespace muxio::ftp {

namespace {

// A decimal number of 1..max_digits digits and no sign, consuming all of `s`.
std::optional<unsigned> parse_decimal(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  unsigned value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);  // cannot fail: digits, short
  return value;
}

// The four IPv4 bytes of an IPv4 or v4-mapped IPv6 address.
std::optional<std::array<std::uint8_t, 4>> ipv4_bytes(const SocketAddress& addr) {
  std::array<std::uint8_t, 4> b{};
  if (addr.family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(addr.data());
    std::memcpy(b.data(), &sin->sin_addr, 4);
    return b;
  }
  if (addr.family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(addr.data());
    if (!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) return std::nullopt;
    std::memcpy(b.data(), sin6->sin6_addr.s6_addr + 12, 4);
    return b;
  }
  return std::nullopt;
}

// Splits `s` at every `delim`; at most `max_fields` fields (one more means "too many").
template <std::size_t N>
std::size_t split(std::string_view s, char delim, std::array<std::string_view, N>& fields) {
  std::size_t count = 0;
  while (true) {
    if (count == N) return N + 1;
    const auto at = s.find(delim);
    fields[count++] = s.substr(0, at);
    if (at == std::string_view::npos) return count;
    s.remove_prefix(at + 1);
  }
}

// Only the numeric forms inet_pton accepts; SocketAddress::from_ip also takes "localhost", "*" and
// "", which must not be accepted from the network.
bool is_numeric_address(int family, const std::string& ip) {
  std::array<unsigned char, sizeof(in6_addr)> buf{};
  return ::inet_pton(family, ip.c_str(), buf.data()) == 1;
}

}  // namespace

Result<SocketAddress> parse_port_arg(std::string_view arg) {
  std::array<std::string_view, 6> fields;
  if (split(arg, ',', fields) != fields.size()) return Error::bad_address;
  std::array<unsigned, 6> n{};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto v = parse_decimal(fields[i], 3);
    if (!v || *v > 255) return Error::bad_address;
    n[i] = *v;
  }
  const unsigned port = n[4] * 256 + n[5];
  if (port == 0) return Error::bad_address;
  const std::string ip = std::to_string(n[0]) + '.' + std::to_string(n[1]) + '.' +
                         std::to_string(n[2]) + '.' + std::to_string(n[3]);
  return SocketAddress::from_ip(ip, static_cast<std::uint16_t>(port));
}

Result<SocketAddress> parse_eprt_arg(std::string_view arg) {
  if (arg.size() < 2) return Error::bad_address;
  const char d = arg[0];
  if (d < 33 || d > 126) return Error::bad_address;
  if (arg.back() != d) return Error::bad_address;
  // Between the opening and closing delimiters: "af<d>addr<d>port".
  std::array<std::string_view, 3> fields;
  if (split(arg.substr(1, arg.size() - 2), d, fields) != fields.size()) return Error::bad_address;

  int family = 0;
  if (fields[0] == "1") {
    family = AF_INET;
  } else if (fields[0] == "2") {
    family = AF_INET6;
  } else {
    return Error::bad_address;
  }
  const std::string ip(fields[1]);
  if (!is_numeric_address(family, ip)) return Error::bad_address;
  auto port = parse_decimal(fields[2], 5);
  if (!port || *port == 0 || *port > 65535) return Error::bad_address;
  return SocketAddress::from_ip(ip, static_cast<std::uint16_t>(*port));
}

bool has_ipv4_form(const SocketAddress& addr) {
  return ipv4_bytes(addr).has_value();
}

std::string format_port_arg(const SocketAddress& addr) {
  auto b = ipv4_bytes(addr);
  if (!b) return {};
  std::string out;
  for (std::uint8_t byte : *b) {
    out += std::to_string(byte);
    out.push_back(',');
  }
  out += std::to_string(addr.port() >> 8);
  out.push_back(',');
  out += std::to_string(addr.port() & 0xff);
  return out;
}

std::string format_eprt_arg(const SocketAddress& addr) {
  const char* family = addr.is_v6() ? "2" : "1";
  return std::string("|") + family + '|' + addr.ip() + '|' + std::to_string(addr.port()) + '|';
}

std::string format_pasv_reply_text(const SocketAddress& addr) {
  std::string numbers = format_port_arg(addr);
  if (numbers.empty()) return {};
  return "Entering Passive Mode (" + numbers + ")";
}

std::string format_epsv_reply_text(std::uint16_t port) {
  return "Entering Extended Passive Mode (|||" + std::to_string(port) + "|)";
}

}  // namespace muxio::ftp
