// DataChannel: how one session's next data connection is made — a passive listener (PASV,
// EPSV) or an active target (PORT, EPRT) — and opening it for a transfer.
//
// Safety rules: an active target must be the control connection's own address and a port
// >= 1024 (no FTP bounce); a passive connection is accepted only from the control connection's
// address, or from passive_trusted_networks (others are closed and logged); both wait at most
// the data timeout. Owned by its session; loop thread only.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "ftpd/config.hpp"
#include "muxio/tcp_listener.hpp"
#include "muxio/time.hpp"

namespace muxio::ftpd {

class DataChannel {
 public:
  using Logger = std::function<void(const std::string&)>;

  DataChannel(EventLoop& loop, const ServerConfig& config, SocketAddress control_local,
              SocketAddress control_peer, Logger log);

  // PASV/EPSV: listens on the control connection's local address, in the passive port range.
  Result<SocketAddress> listen_passive();
  // PORT/EPRT: EACCES for another host or a privileged port.
  std::error_code set_active(const SocketAddress& target);
  bool ready() const { return passive_.has_value() || active_.has_value(); }
  bool is_passive() const { return passive_.has_value(); }
  void reset();

  // Opens the data connection for one transfer; the set-up is used up either way.
  Task<Result<TcpStream>> open();

 private:
  Task<Result<TcpStream>> accept_from_peer(TcpListener& listener);
  bool same_host(const SocketAddress& a) const;

  EventLoop& loop_;
  const ServerConfig& config_;
  SocketAddress local_;
  SocketAddress peer_;
  Logger log_;
  std::optional<TcpListener> passive_;
  std::optional<SocketAddress> active_;
};

}  // namespace muxio::ftpd
