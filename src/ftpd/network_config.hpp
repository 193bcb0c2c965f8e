// NetworkSettings: how muxftpd sits behind NAT and TCP balancers — the address PASV advertises
// (passive_address, per-client-network overrides, a port offset for port-mapping NAT), who may
// connect to passive ports besides the client, and the PROXY protocol on listeners. Keys are
// documented in docs/muxftpd.example.toml; the trust model in docs/SECURITY.md.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ftpd/ip_network.hpp"
#include "muxio/socket_address.hpp"

namespace muxio::ftpd {

enum class ProxyMode { off, optional, required };

struct PassiveOverride {
  IpNetwork network;    // clients from here...
  std::string address;  // ...get this address (IPv4, or a name)
  std::string ip;       // `address` resolved (resolve_passive_addresses)
};

struct NetworkSettings {
  std::string passive_address;                     // IPv4 or DNS name; empty: see passive_ip_for
  std::string passive_ip;                          // passive_address resolved
  std::vector<PassiveOverride> passive_overrides;  // first match wins
  int passive_port_offset = 0;                     // advertised port = listened port + offset
  // Besides the client's own address, who may connect to a passive port (balancers that
  // rewrite the source address).
  std::vector<IpNetwork> passive_trusted_networks;

  ProxyMode proxy_protocol = ProxyMode::off;                       // every listener not named below
  std::vector<std::pair<std::string, ProxyMode>> proxy_listeners;  // listen address -> mode
  std::vector<IpNetwork> proxy_trusted_networks;                   // who may send a PROXY header
  std::chrono::seconds proxy_header_timeout{5};
};

// "off", "optional", "required".
bool parse_proxy_mode(std::string_view s, ProxyMode& mode);

// The PROXY protocol mode of the listener configured as `listen` (its text in the config).
ProxyMode proxy_mode_for(const NetworkSettings& n, const std::string& listen);

// Start-up checks that need the whole configuration (listeners, passive ports). The error names
// the key. `listeners` are every listen and implicit_tls_listen entry.
bool validate_network(const NetworkSettings& n, const std::vector<std::string>& listeners,
                      std::uint16_t passive_low, std::uint16_t passive_high, std::string* error);

// Resolves passive_address and the overrides' addresses to IPv4 (blocking: at start-up, or on
// the offload pool). False with an error naming the key when one does not resolve.
bool resolve_passive_addresses(NetworkSettings& n, std::string* error);

// The address PASV advertises to `client`: an override for its network, else passive_address,
// else the PROXY header's destination (what the client connected to), else the control
// connection's local address. Nullopt when none has an IPv4 form (PASV cannot say it).
std::optional<muxio::SocketAddress> passive_ip_for(
    const NetworkSettings& n, const muxio::SocketAddress& client,
    const muxio::SocketAddress& control_local,
    const std::optional<muxio::SocketAddress>& proxy_destination);

// The port advertised for a passive listener on `port` (the offset applied).
std::uint16_t advertised_passive_port(const NetworkSettings& n, std::uint16_t port);

}  // namespace muxio::ftpd
