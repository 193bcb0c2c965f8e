#include "ftpd/proxy_accept.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "ftp/proxy_header.hpp"
#include "muxio/clock.hpp"
#include "muxio/time.hpp"

namespace muxio::ftpd {
namespace {

using namespace std::chrono_literals;
using Status = ftp::ProxyParse::Status;

constexpr std::size_t kPeekMax = ftp::kProxyV2HeaderSize + ftp::kProxyV2MaxPayload;

// What is waiting in the socket, left there. Empty with `closed` at end of stream.
std::string peek(int fd, bool& closed, bool& failed) {
  std::string buf(kPeekMax, '\0');
  const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
  closed = n == 0;
  failed = n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return buf;
}

// Whether `bytes` could be the start of a header (the parse says incomplete or complete).
bool starts_like_header(std::string_view bytes) {
  return !bytes.empty() && ftp::parse_proxy_header(bytes).status != Status::invalid;
}

ProxyOutcome refused(std::string why) {
  ProxyOutcome o;
  o.error = std::move(why);
  return o;
}

ProxyOutcome direct(const muxio::SocketAddress& peer) {
  ProxyOutcome o;
  o.accepted = true;
  o.client = peer;
  return o;
}

}  // namespace

Task<ProxyOutcome> read_proxy_header(TcpStream& stream, const muxio::SocketAddress& peer,
                                     ProxyMode mode, const NetworkSettings& net) {
  const bool trusted = any_contains(net.proxy_trusted_networks, peer);
  bool closed = false;
  bool failed = false;
  if (!trusted) {
    if (mode == ProxyMode::required) co_return refused("PROXY header from an untrusted address");
    // Optional: a header already here is refused; no waiting for one that cannot be trusted.
    const std::string now = peek(stream.fd(), closed, failed);
    if (starts_like_header(now)) co_return refused("PROXY header from an untrusted address");
    co_return direct(peer);
  }
  const TimePoint deadline = Clock::now() + net.proxy_header_timeout;
  Duration pause = 1ms;
  std::string bytes;
  for (;;) {
    bytes = peek(stream.fd(), closed, failed);
    if (closed || failed) co_return refused("connection closed before the PROXY header");
    if (!bytes.empty()) {
      const auto parse = ftp::parse_proxy_header(bytes);
      if (parse.status == Status::complete) {
        // Consume exactly the header: it is all in the socket buffer already.
        std::string sink(parse.header.size, '\0');
        const ssize_t n = ::recv(stream.fd(), sink.data(), sink.size(), MSG_DONTWAIT);
        if (n != static_cast<ssize_t>(sink.size())) co_return refused("PROXY header read failed");
        ProxyOutcome o = direct(peer);
        o.version = parse.header.version;
        if (parse.header.has_addresses) {
          o.client = parse.header.source;
          o.destination = parse.header.destination;
        }
        co_return o;
      }
      if (parse.status == Status::invalid) {
        if (mode == ProxyMode::optional && !starts_like_header(bytes.substr(0, 1))) {
          co_return direct(peer);  // no header: the client's own bytes (a TLS ClientHello)
        }
        co_return refused("bad PROXY header: " + parse.error);
      }
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      if (bytes.empty() && mode == ProxyMode::optional) co_return direct(peer);
      co_return refused(bytes.empty() ? "no PROXY header in time"
                                      : "PROXY header incomplete in time");
    }
    const Duration wait = std::min<Duration>(pause, deadline - now);
    std::error_code ec = co_await sleep_for(wait);
    if (ec) co_return refused("cancelled while waiting for the PROXY header");
    pause = std::min<Duration>(pause * 2, 20ms);
  }
}

}  // namespace muxio::ftpd
