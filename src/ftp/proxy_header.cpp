#include "ftp/proxy_header.hpp"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace muxio::ftp {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t kV1MinLine = 15;  // "PROXY UNKNOWN\r\n"

constexpr std::uint8_t kCmdLocal = 0x20;
constexpr std::uint8_t kCmdProxy = 0x21;

bool is_prefix_of(std::string_view bytes, std::string_view whole) {
  const auto n = bytes.size() < whole.size() ? bytes.size() : whole.size();
  return bytes.substr(0, n) == whole.substr(0, n);
}

ProxyParse invalid(std::string why) {
  ProxyParse p;
  p.status = ProxyParse::Status::invalid;
  p.error = std::move(why);
  return p;
}

ProxyParse complete(ProxyHeader h) {
  ProxyParse p;
  p.status = ProxyParse::Status::complete;
  p.header = std::move(h);
  return p;
}

muxio::SocketAddress make_v4(const void* addr4, std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  std::memcpy(&sin.sin_addr, addr4, 4);
  sin.sin_port = htons(port);
  return muxio::SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

muxio::SocketAddress make_v6(const void* addr16, std::uint16_t port) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  std::memcpy(&sin6.sin6_addr, addr16, 16);
  sin6.sin6_port = htons(port);
  return muxio::SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
}

// A v1 address of the given family; the text is at most INET6_ADDRSTRLEN - 1 characters.
bool parse_v1_ip(std::string_view text, bool v6, unsigned char* out) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return ::inet_pton(v6 ? AF_INET6 : AF_INET, buf, out) == 1;
}

// 0..65535 in decimal, no sign, no leading zero.
bool parse_v1_port(std::string_view text, std::uint16_t& port) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
  std::uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

ProxyParse parse_v1(std::string_view bytes) {
  const std::size_t scan = bytes.size() < kProxyV1MaxLine ? bytes.size() : kProxyV1MaxLine;
  std::size_t end = std::string_view::npos;  // index of the '\n'
  for (std::size_t i = 0; i < scan; ++i) {
    const char c = bytes[i];
    if (c == '\n') {
      if (i == 0 || bytes[i - 1] != '\r') return invalid("v1: bare LF");
      end = i;
      break;
    }
    if (c == '\r') {
      if (i + 1 < bytes.size() && bytes[i + 1] != '\n') return invalid("v1: CR without LF");
      continue;
    }
    if (c < 0x20 || c > 0x7e) return invalid("v1: control or non-ASCII byte");
  }
  if (end == std::string_view::npos) {
    if (bytes.size() >= kProxyV1MaxLine) return invalid("v1: line longer than 107 bytes");
    return ProxyParse{};
  }
  const std::string_view line = bytes.substr(0, end - 1);
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (true) {
    const auto sp = line.find(' ', pos);
    fields.push_back(line.substr(pos, sp == std::string_view::npos ? sp : sp - pos));
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  ProxyHeader h;
  h.version = 1;
  h.size = end + 1;
  if (fields.size() >= 2 && fields[1] == "UNKNOWN") return complete(h);  // the rest is ignored
  if (fields.size() < 2 || (fields[1] != "TCP4" && fields[1] != "TCP6")) {
    return invalid("v1: protocol is not TCP4, TCP6 or UNKNOWN");
  }
  if (fields.size() != 6) return invalid("v1: expected 6 fields separated by single spaces");
  const bool v6 = fields[1] == "TCP6";
  unsigned char src[16], dst[16];
  std::uint16_t sport = 0, dport = 0;
  if (!parse_v1_ip(fields[2], v6, src) || !parse_v1_ip(fields[3], v6, dst)) {
    return invalid("v1: address does not match the protocol");
  }
  if (!parse_v1_port(fields[4], sport) || !parse_v1_port(fields[5], dport)) {
    return invalid("v1: bad port");
  }
  h.has_addresses = true;
  h.source = v6 ? make_v6(src, sport) : make_v4(src, sport);
  h.destination = v6 ? make_v6(dst, dport) : make_v4(dst, dport);
  return complete(h);
}

std::uint16_t be16(const unsigned char* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

ProxyParse parse_v2(std::string_view bytes) {
  if (bytes.size() < kV2Signature.size()) return ProxyParse{};
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() > 12) {
    const std::uint8_t cmd = p[12];
    if (cmd != kCmdLocal && cmd != kCmdProxy) return invalid("v2: bad version or command");
  }
  if (bytes.size() > 13) {
    const std::uint8_t family = p[13] >> 4, transport = p[13] & 0x0f;
    if (family > 3 || transport > 2) return invalid("v2: bad address family or transport");
  }
  if (bytes.size() < kProxyV2HeaderSize) return ProxyParse{};
  const std::size_t len = be16(p + 14);
  if (len > kProxyV2MaxPayload) return invalid("v2: header longer than the limit");
  if (bytes.size() < kProxyV2HeaderSize + len) return ProxyParse{};
  ProxyHeader h;
  h.version = 2;
  h.size = kProxyV2HeaderSize + len;
  if (p[12] == kCmdLocal) return complete(h);  // the balancer's own connection
  const unsigned char* a = p + kProxyV2HeaderSize;
  switch (p[13]) {
    case 0x00:  // UNSPEC
      return complete(h);
    case 0x11:    // TCP over IPv4
    case 0x21: {  // TCP over IPv6
      const bool v6 = p[13] == 0x21;
      const std::size_t n = v6 ? 16 : 4;  // bytes of one address
      if (len < 2 * n + 4) return invalid("v2: address block too short for its family");
      const auto make = v6 ? make_v6 : make_v4;
      h.has_addresses = true;
      h.source = make(a, be16(a + 2 * n));
      h.destination = make(a + n, be16(a + 2 * n + 2));
      return complete(h);
    }
    case 0x31:  // UNIX stream: no address to use
      if (len < 216) return invalid("v2: UNIX address block too short");
      return complete(h);
    default:
      return invalid("v2: not a stream connection");
  }
}

}  // namespace

ProxyParse parse_proxy_header(std::string_view bytes) {
  if (bytes.empty()) return ProxyParse{};
  if (bytes[0] == 'P') {
    if (!is_prefix_of(bytes, kV1Prefix)) return invalid("not a PROXY header");
    if (bytes.size() <= kV1Prefix.size()) return ProxyParse{};
    return parse_v1(bytes);
  }
  if (!is_prefix_of(bytes, kV2Signature)) return invalid("not a PROXY header");
  return parse_v2(bytes);
}

std::size_t proxy_header_wanted(std::string_view bytes) {
  if (parse_proxy_header(bytes).status != ProxyParse::Status::incomplete) return 0;
  const std::size_t have = bytes.size();
  if (have == 0) return kV1MinLine;  // the shortest header of either version
  if (bytes[0] == 'P') {
    if (have < kV1MinLine) return kV1MinLine - have;
    const std::size_t most = kProxyV1MaxLine - have;  // >= 1: longer is invalid
    const std::size_t least = bytes.back() == '\r' ? 1 : 2;
    return least < most ? least : most;
  }
  if (have < kProxyV2HeaderSize) return kProxyV2HeaderSize - have;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  return kProxyV2HeaderSize + be16(p + 14) - have;
}

std::string format_proxy_v1(const ProxyHeader& h) {
  if (!h.has_addresses) return "PROXY UNKNOWN\r\n";
  return std::string("PROXY ") + (h.source.is_v6() ? "TCP6 " : "TCP4 ") + h.source.ip() + ' ' +
         h.destination.ip() + ' ' + std::to_string(h.source.port()) + ' ' +
         std::to_string(h.destination.port()) + "\r\n";
}

std::string format_proxy_v2(const ProxyHeader& h) {
  std::string out(kV2Signature);
  auto put16 = [&out](std::uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
  };
  if (!h.has_addresses) {
    out.push_back(static_cast<char>(kCmdLocal));
    out.push_back('\0');
    put16(0);
    return out;
  }
  out.push_back(static_cast<char>(kCmdProxy));
  const bool v6 = h.source.is_v6();
  out.push_back(static_cast<char>(v6 ? 0x21 : 0x11));
  put16(v6 ? 36 : 12);
  auto put_ip = [&out](const muxio::SocketAddress& a) {
    if (a.is_v6()) {
      const auto* s = reinterpret_cast<const sockaddr_in6*>(a.data());
      out.append(reinterpret_cast<const char*>(&s->sin6_addr), 16);
    } else {
      const auto* s = reinterpret_cast<const sockaddr_in*>(a.data());
      out.append(reinterpret_cast<const char*>(&s->sin_addr), 4);
    }
  };
  put_ip(h.source);
  put_ip(h.destination);
  put16(h.source.port());
  put16(h.destination.port());
  return out;
}

}  // namespace muxio::ftp
