#include "ftpd/network_config.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>

#include "ftp/host_port.hpp"
#include "ftpd/network_toml.hpp"

namespace muxio::ftpd {
namespace {

bool fail(std::string* error, std::string message) {
  *error = std::move(message);
  return false;
}

// A list of CIDR strings; a single string is a list of one.
bool read_networks(const toml::table& t, std::string_view key, std::vector<IpNetwork>& out,
                   std::string* error) {
  const auto node = t[key];
  if (!node) return true;
  std::vector<std::string> texts;
  if (auto s = node.value<std::string>()) {
    texts.push_back(*s);
  } else if (auto* arr = node.as_array()) {
    for (auto& e : *arr) {
      auto s2 = e.value<std::string>();
      if (!s2) return fail(error, std::string(key) + ": every entry must be a string");
      texts.push_back(*s2);
    }
  } else {
    return fail(error, std::string(key) + ": expected a list of networks, e.g. [\"10.0.0.0/8\"]");
  }
  out.clear();
  for (const auto& text : texts) {
    auto n = IpNetwork::parse(text);
    if (!n) {
      return fail(error, std::string(key) + ": '" + text +
                             "' is not a network (ADDRESS or ADDRESS/PREFIX, no host bits "
                             "after the prefix)");
    }
    out.push_back(*n);
  }
  return true;
}

// The IPv4 address of `host` (numeric or a name); blocking.
bool resolve_v4(const std::string& host, std::string& ip) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return false;
  char buf[INET_ADDRSTRLEN];
  const auto* sin = reinterpret_cast<const sockaddr_in*>(res->ai_addr);
  const bool ok = ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf) != nullptr;
  ::freeaddrinfo(res);
  if (ok) ip = buf;
  return ok;
}

bool looks_like_ipv6(const std::string& s) {
  return s.find(':') != std::string::npos;
}

}  // namespace

bool parse_proxy_mode(std::string_view s, ProxyMode& mode) {
  if (s == "off") {
    mode = ProxyMode::off;
  } else if (s == "optional") {
    mode = ProxyMode::optional;
  } else if (s == "required") {
    mode = ProxyMode::required;
  } else {
    return false;
  }
  return true;
}

ProxyMode proxy_mode_for(const NetworkSettings& n, const std::string& listen) {
  for (const auto& [where, mode] : n.proxy_listeners) {
    if (where == listen) return mode;
  }
  return n.proxy_protocol;
}

bool read_network_keys(const toml::table& t, NetworkSettings& n, std::string* error) {
  if (const auto node = t["passive_address"]) {
    auto s = node.value<std::string>();
    if (!s) return fail(error, "passive_address: expected a string (an IPv4 address or a name)");
    n.passive_address = *s;
  }
  if (const auto node = t["passive_address_overrides"]) {
    auto* arr = node.as_array();
    if (arr == nullptr) {
      return fail(error,
                  "passive_address_overrides: expected a list of { network = \"CIDR\", "
                  "address = \"IP or name\" }");
    }
    n.passive_overrides.clear();
    for (auto& e : *arr) {
      auto* tbl = e.as_table();
      auto net = tbl ? (*tbl)["network"].value<std::string>() : std::nullopt;
      auto addr = tbl ? (*tbl)["address"].value<std::string>() : std::nullopt;
      if (!net || !addr) {
        return fail(error,
                    "passive_address_overrides: each entry needs network = \"CIDR\" and "
                    "address = \"IP or name\"");
      }
      auto parsed = IpNetwork::parse(*net);
      if (!parsed) {
        return fail(error, "passive_address_overrides: '" + *net + "' is not a network");
      }
      n.passive_overrides.push_back({*parsed, *addr, {}});
    }
  }
  if (const auto node = t["passive_port_offset"]) {
    auto v = node.value<std::int64_t>();
    if (!v || *v < -65535 || *v > 65535) {
      return fail(error, "passive_port_offset: expected an integer in -65535..65535");
    }
    n.passive_port_offset = static_cast<int>(*v);
  }
  if (!read_networks(t, "passive_trusted_networks", n.passive_trusted_networks, error)) {
    return false;
  }
  if (const auto node = t["proxy_protocol"]) {
    if (auto s = node.value<std::string>()) {
      if (!parse_proxy_mode(*s, n.proxy_protocol)) {
        return fail(error, "proxy_protocol: expected \"off\", \"optional\" or \"required\"");
      }
    } else if (auto* tbl = node.as_table()) {
      n.proxy_listeners.clear();
      for (auto& [key, value] : *tbl) {
        ProxyMode mode{};
        auto s2 = value.value<std::string>();
        if (!s2 || !parse_proxy_mode(*s2, mode)) {
          return fail(error, "proxy_protocol: \"" + std::string(key.str()) +
                                 "\": expected \"off\", \"optional\" or \"required\"");
        }
        n.proxy_listeners.emplace_back(std::string(key.str()), mode);
      }
    } else {
      return fail(error,
                  "proxy_protocol: expected \"off\", \"optional\", \"required\", or a table "
                  "of listen address = mode");
    }
  }
  if (!read_networks(t, "proxy_trusted_networks", n.proxy_trusted_networks, error)) return false;
  if (const auto node = t["proxy_header_timeout"]) {
    auto v = node.value<std::int64_t>();
    if (!v || *v < 1 || *v > 300) {
      return fail(error, "proxy_header_timeout: expected seconds in 1..300");
    }
    n.proxy_header_timeout = std::chrono::seconds(*v);
  }
  return true;
}

bool validate_network(const NetworkSettings& n, const std::vector<std::string>& listeners,
                      std::uint16_t passive_low, std::uint16_t passive_high, std::string* error) {
  bool any_proxy = n.proxy_protocol != ProxyMode::off;
  for (const auto& [where, mode] : n.proxy_listeners) {
    if (std::find(listeners.begin(), listeners.end(), where) == listeners.end()) {
      return fail(error, "proxy_protocol: \"" + where +
                             "\" is not one of the listen or implicit_tls_listen addresses");
    }
    any_proxy = any_proxy || mode != ProxyMode::off;
  }
  if (any_proxy && n.proxy_trusted_networks.empty()) {
    return fail(error,
                "proxy_trusted_networks: required with proxy_protocol (the balancers' "
                "addresses, e.g. [\"127.0.0.1/32\"])");
  }
  if (looks_like_ipv6(n.passive_address)) {
    return fail(error,
                "passive_address: must be IPv4 (PASV carries IPv4 only; EPSV carries no "
                "address)");
  }
  for (const auto& o : n.passive_overrides) {
    if (looks_like_ipv6(o.address) || o.address.empty()) {
      return fail(error, "passive_address_overrides: address '" + o.address +
                             "' must be an IPv4 address or a name");
    }
  }
  if (n.passive_port_offset != 0) {
    if (passive_low == 0) {
      return fail(error, "passive_port_offset: needs passive_ports (a fixed range to map)");
    }
    if (passive_low + n.passive_port_offset < 1 || passive_high + n.passive_port_offset > 65535) {
      return fail(error, "passive_port_offset: passive_ports + offset leaves 1..65535");
    }
  }
  return true;
}

bool resolve_passive_addresses(NetworkSettings& n, std::string* error) {
  if (!n.passive_address.empty() && !resolve_v4(n.passive_address, n.passive_ip)) {
    return fail(error, "passive_address: '" + n.passive_address + "' has no IPv4 address");
  }
  for (auto& o : n.passive_overrides) {
    if (!resolve_v4(o.address, o.ip)) {
      return fail(error, "passive_address_overrides: '" + o.address + "' has no IPv4 address");
    }
  }
  return true;
}

std::optional<muxio::SocketAddress> passive_ip_for(
    const NetworkSettings& n, const muxio::SocketAddress& client,
    const muxio::SocketAddress& control_local,
    const std::optional<muxio::SocketAddress>& proxy_destination) {
  for (const auto& o : n.passive_overrides) {
    if (!o.ip.empty() && o.network.contains(client)) {
      if (auto a = muxio::SocketAddress::from_ip(o.ip, 0)) return *a;
    }
  }
  if (!n.passive_ip.empty()) {
    if (auto a = muxio::SocketAddress::from_ip(n.passive_ip, 0)) return *a;
  }
  if (proxy_destination && ftp::has_ipv4_form(*proxy_destination)) return *proxy_destination;
  if (ftp::has_ipv4_form(control_local)) return control_local;
  return std::nullopt;
}

std::uint16_t advertised_passive_port(const NetworkSettings& n, std::uint16_t port) {
  const int p = port + n.passive_port_offset;
  return p >= 1 && p <= 65535 ? static_cast<std::uint16_t>(p) : port;
}

}  // namespace muxio::ftpd
