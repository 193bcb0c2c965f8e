// IpNetwork: an IPv4 or IPv6 network in CIDR form ("10.0.0.0/8", "2001:db8::/32", or a bare
// address, which is a /32 or /128), for the trust lists and passive-address overrides. IPv4 is
// kept as IPv4-mapped IPv6 (::ffff:a.b.c.d), so an IPv4 network also matches the v4-mapped
// addresses a dual-stack listener reports for IPv4 clients.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "muxio/socket_address.hpp"

namespace muxio::ftpd {

class IpNetwork {
 public:
  // Strict: a numeric address, optionally "/PREFIX" in decimal (0..32 for IPv4, 0..128 for
  // IPv6), no spaces, and no bits set after the prefix ("10.0.0.1/8" is refused: it is usually
  // a typo). Nullopt when `cidr` is not of that form.
  static std::optional<IpNetwork> parse(std::string_view cidr);

  bool contains(const muxio::SocketAddress& addr) const;
  bool contains_ip(std::string_view ip) const;  // false when `ip` is not a numeric address
  std::string to_string() const;                // "10.0.0.0/8", "::/0"

 private:
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 as ::ffff:a.b.c.d
  unsigned prefix_ = 0;                   // over the 128 bits
  bool v4_ = false;
};

// True when any of `networks` contains `addr`.
bool any_contains(const std::vector<IpNetwork>& networks, const muxio::SocketAddress& addr);

}  // namespace muxio::ftpd
