// SocketAddress: an IPv4 or IPv6 address and port, parsed from and printed as "HOST:PORT" or
// "[IPV6]:PORT". Numeric hosts only, plus "localhost" and "*" (any); name resolution would block
// the loop and belongs on the offload pool.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "muxio/result.hpp"

namespace muxio {

class SocketAddress {
 public:
  SocketAddress() = default;
  static Result<SocketAddress> parse(std::string_view host_port);
  static Result<SocketAddress> from_ip(std::string_view ip, std::uint16_t port);
  static SocketAddress from_sockaddr(const sockaddr* sa, socklen_t len);
  // The local or remote address of a socket.
  static Result<SocketAddress> local_of(int fd);
  static Result<SocketAddress> peer_of(int fd);

  int family() const { return storage_.ss_family; }
  bool is_v6() const { return family() == AF_INET6; }
  std::uint16_t port() const;
  void set_port(std::uint16_t port);
  std::string ip() const;         // "127.0.0.1", "::1"
  std::string to_string() const;  // "127.0.0.1:21", "[::1]:21"

  const sockaddr* data() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const { return len_; }

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

}  // namespace muxio
