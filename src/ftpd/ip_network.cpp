#include "ftpd/ip_network.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace muxio::ftpd {
namespace {

constexpr unsigned kV4Offset = 96;  // bits before the IPv4 part of ::ffff:a.b.c.d

// The 16 bytes of a numeric address; `v4` tells which form it was written in.
bool ip_bytes(std::string_view ip, std::array<std::uint8_t, 16>& out, bool& v4) {
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, ip.data(), ip.size());
  buf[ip.size()] = '\0';
  out = {};
  in_addr a4{};
  if (::inet_pton(AF_INET, buf, &a4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &a4, 4);
    v4 = true;
    return true;
  }
  in6_addr a6{};
  if (::inet_pton(AF_INET6, buf, &a6) == 1) {
    std::memcpy(out.data(), &a6, 16);
    v4 = false;
    return true;
  }
  return false;
}

bool socket_bytes(const muxio::SocketAddress& addr, std::array<std::uint8_t, 16>& out) {
  out = {};
  if (addr.family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(addr.data());
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &sin->sin_addr, 4);
    return true;
  }
  if (addr.family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(addr.data());
    std::memcpy(out.data(), &sin6->sin6_addr, 16);
    return true;
  }
  return false;
}

bool prefix_matches(const std::array<std::uint8_t, 16>& net, const std::array<std::uint8_t, 16>& a,
                    unsigned prefix) {
  const unsigned full = prefix / 8;
  if (std::memcmp(net.data(), a.data(), full) != 0) return false;
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (net[full] & mask) == (a[full] & mask);
}

}  // namespace

std::optional<IpNetwork> IpNetwork::parse(std::string_view cidr) {
  const auto slash = cidr.find('/');
  IpNetwork n;
  if (!ip_bytes(cidr.substr(0, slash), n.bytes_, n.v4_)) return std::nullopt;
  const unsigned max = n.v4_ ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const auto digits = cidr.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc{} || end != digits.data() + digits.size() || prefix > max) {
      return std::nullopt;
    }
  }
  n.prefix_ = n.v4_ ? prefix + kV4Offset : prefix;
  // No host bits after the prefix.
  for (unsigned bit = n.prefix_; bit < 128; ++bit) {
    if (n.bytes_[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
  }
  return n;
}

bool IpNetwork::contains(const muxio::SocketAddress& addr) const {
  std::array<std::uint8_t, 16> a;
  return socket_bytes(addr, a) && prefix_matches(bytes_, a, prefix_);
}

bool IpNetwork::contains_ip(std::string_view ip) const {
  std::array<std::uint8_t, 16> a;
  bool v4 = false;
  return ip_bytes(ip, a, v4) && prefix_matches(bytes_, a, prefix_);
}

std::string IpNetwork::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (v4_) {
    ::inet_ntop(AF_INET, bytes_.data() + 12, buf, sizeof buf);
    return std::string(buf) + '/' + std::to_string(prefix_ - kV4Offset);
  }
  ::inet_ntop(AF_INET6, bytes_.data(), buf, sizeof buf);
  return std::string(buf) + '/' + std::to_string(prefix_);
}

bool any_contains(const std::vector<IpNetwork>& networks, const muxio::SocketAddress& addr) {
  for (const auto& n : networks) {
    if (n.contains(addr)) return true;
  }
  return false;
}

}  // namespace muxio::ftpd
