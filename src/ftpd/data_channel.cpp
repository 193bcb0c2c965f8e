#include "ftpd/data_channel.hpp"

#include <random>

namespace muxio::ftpd {

DataChannel::DataChannel(EventLoop& loop, const ServerConfig& config, SocketAddress control_local,
                         SocketAddress control_peer, Logger log)
    : loop_(loop),
      config_(config),
      local_(control_local),
      peer_(control_peer),
      log_(std::move(log)) {}

void DataChannel::reset() {
  passive_.reset();
  active_.reset();
}

bool DataChannel::same_host(const SocketAddress& a) const {
  return a.ip() == peer_.ip();
}

Result<SocketAddress> DataChannel::listen_passive() {
  reset();
  SocketAddress addr = local_;
  ListenOptions opt{.backlog = 4};
  if (config_.passive_low == 0) {
    addr.set_port(0);
    auto l = TcpListener::bind(loop_, addr, opt);
    if (!l) return l.error();
    passive_.emplace(std::move(*l));
    return passive_->local_address();
  }
  // Start at a random port of the range so that concurrent sessions rarely collide.
  static thread_local std::mt19937 rng(std::random_device{}());
  unsigned span = config_.passive_high - config_.passive_low + 1u;
  unsigned start = rng() % span;
  std::error_code last = errno_code(EADDRINUSE);
  for (unsigned i = 0; i < span; ++i) {
    addr.set_port(static_cast<std::uint16_t>(config_.passive_low + (start + i) % span));
    auto l = TcpListener::bind(loop_, addr, opt);
    if (l) {
      passive_.emplace(std::move(*l));
      return passive_->local_address();
    }
    last = l.error();
    if (last != std::errc::address_in_use) break;
  }
  return last;
}

std::error_code DataChannel::set_active(const SocketAddress& target) {
  reset();
  if (!same_host(target) || target.port() < 1024) {
    log_("refused PORT/EPRT to " + target.to_string() +
         " (not the client's address or port < 1024)");
    return errno_code(EACCES);
  }
  active_ = target;
  return {};
}

Task<Result<TcpStream>> DataChannel::accept_from_peer(TcpListener& listener) {
  for (;;) {
    auto a = co_await listener.accept();
    if (!a) co_return a.error();
    // The client itself, or a balancer trusted to rewrite its source address.
    if (same_host(a->peer) || any_contains(config_.network.passive_trusted_networks, a->peer)) {
      co_return std::move(a->stream);
    }
    log_("refused passive data connection from " + a->peer.to_string() +
         " (control connection is from " + peer_.ip() + ")");
  }
}

Task<Result<TcpStream>> DataChannel::open() {
  auto timeout = std::chrono::duration_cast<Duration>(config_.data_timeout);
  if (passive_) {
    TcpListener listener = std::move(*passive_);
    reset();
    co_return co_await with_timeout(timeout, accept_from_peer(listener));
  }
  if (active_) {
    SocketAddress target = *active_;
    reset();
    co_return co_await with_timeout(timeout, TcpStream::connect(loop_, target));
  }
  co_return errno_code(ENOTCONN);
}

}  // namespace muxio::ftpd
