// echo-load: a ping-pong TCP load generator for echo servers.
//
// Each connection sends one message of --size bytes, waits until exactly those bytes came back,
// checks them byte for byte, records the round trip, and repeats until --seconds are over.
// Connections are spread over --threads threads, each with its own level-triggered epoll loop.
//
// It is written with raw epoll on purpose: it measures muxio, so it must not depend on it.
//
// Run phases (per thread, all threads start measuring together):
//   1. connect: nonblocking connects, at most kConnectBatch outstanding per thread; a connection
//      counts as established only after one warm-up echo, which proves the server accepted it.
//   2. measure: messages completed before the end of the window are counted and timed.
//   3. drain: in-flight messages may finish (and are still verified) but are not counted.

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

namespace {

using Nanos = std::int64_t;

Nanos now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Nanos seconds_to_ns(double s) {
  return static_cast<Nanos>(s * 1e9);
}

// Outstanding connects (plus their warm-up echo) per thread. Small enough that a server with the
// default listen backlog is never flooded with SYNs it has to drop (each drop costs a 1 s
// retransmit), large enough that 10,000 connections are up in well under a second.
constexpr std::size_t kConnectBatch = 64;
// How long in-flight messages may take to come back after the window closes.
constexpr Nanos kDrainNs = 1'000'000'000;
// Slack on top of all phases before the watchdog kills the process.
constexpr Nanos kWatchdogSlackNs = 5'000'000'000;
constexpr std::size_t kIoChunk = 64 * 1024;
constexpr int kMaxEvents = 256;

struct Config {
  std::string target;
  int connections = 1;
  std::size_t size = 64;
  double seconds = 5;
  int threads = 1;
  bool json = false;
  double connect_timeout = 10;
};

// ---------------------------------------------------------------------------------------------
// Target address

// Splits "host:port" or "[v6-host]:port"; the brackets are what make "::1" unambiguous.
std::pair<std::string, std::string> split_host_port(const std::string& s) {
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
      throw std::invalid_argument("expected [HOST]:PORT, got '" + s + "'");
    return {s.substr(1, close - 1), s.substr(close + 2)};
  }
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    throw std::invalid_argument("expected HOST:PORT, got '" + s + "'");
  return {s.substr(0, colon), s.substr(colon + 1)};
}

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
};

Endpoint resolve(const std::string& target) {
  auto [host, port] = split_host_port(target);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    throw std::runtime_error(fmt::format("cannot resolve '{}': {}", target, gai_strerror(rc)));
  Endpoint ep;
  std::memcpy(&ep.addr, res->ai_addr, res->ai_addrlen);
  ep.len = res->ai_addrlen;
  ep.family = res->ai_family;
  freeaddrinfo(res);
  return ep;
}

// Thousands of sockets need more than the usual soft limit of 1024 descriptors.
void raise_nofile_limit(int connections) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < static_cast<rlim_t>(connections) + 32)
    fmt::print(stderr, "echo-load: warning: descriptor limit {} is below {} connections\n",
               lim.rlim_cur, connections);
}

// ---------------------------------------------------------------------------------------------
// Message contents

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Byte i of a message is block[i] ^ key_byte(i % 8), where the key mixes connection id and
// sequence number. The random block catches shifted or reordered bytes; the key catches bytes
// from another connection or an earlier message. Any byte range can be produced on its own,
// so partial writes and reads need no per-connection copy of the message.
class Pattern {
 public:
  explicit Pattern(std::size_t size) : block_(size + 8) {
    std::uint64_t state = 0x6d75786f;  // fixed seed: runs are reproducible
    for (std::size_t i = 0; i < block_.size(); i += 8) {
      std::uint64_t w = splitmix64(state++);
      std::memcpy(&block_[i], &w, std::min<std::size_t>(8, block_.size() - i));
    }
  }

  static std::uint64_t key(std::uint32_t conn_id, std::uint64_t seq) {
    return splitmix64((static_cast<std::uint64_t>(conn_id) << 40) ^ seq);
  }

  // Writes message bytes [off, off + len) into dst.
  void render(std::uint64_t key, std::size_t off, std::size_t len, std::uint8_t* dst) const {
    std::array<std::uint8_t, 16> kb;  // key bytes twice, so any 8-byte rotation is contiguous
    std::memcpy(kb.data(), &key, 8);
    std::memcpy(kb.data() + 8, &key, 8);
    std::uint64_t k;
    std::memcpy(&k, kb.data() + (off & 7), 8);
    const std::uint8_t* src = block_.data() + off;
    std::size_t i = 0;
    for (; i + 8 <= len; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, src + i, 8);
      w ^= k;
      std::memcpy(dst + i, &w, 8);
    }
    for (; i < len; ++i)
      dst[i] = src[i] ^ kb[(off + i) & 7];
  }

 private:
  std::vector<std::uint8_t> block_;
};

// ---------------------------------------------------------------------------------------------
// Round-trip histogram: log-linear buckets over nanoseconds, 32 sub-buckets per power of two,
// so any quantile is within ~3% while memory stays fixed however many messages are recorded.

class Histogram {
 public:
  void record(Nanos v) {
    ++counts_[index(static_cast<std::uint64_t>(std::max<Nanos>(v, 0)))];
    ++total_;
  }

  void merge(const Histogram& o) {
    for (std::size_t i = 0; i < kBuckets; ++i)
      counts_[i] += o.counts_[i];
    total_ += o.total_;
  }

  // Returns the midpoint of the bucket holding quantile q (0..1), in nanoseconds.
  double quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return midpoint(i);
    }
    return midpoint(kBuckets - 1);
  }

 private:
  static constexpr unsigned kSubBits = 5;
  static constexpr std::uint64_t kSub = 1u << kSubBits;
  static constexpr std::size_t kBuckets = (64 - kSubBits + 1) * kSub;

  static std::size_t index(std::uint64_t v) {
    if (v < kSub) return v;
    unsigned exp = std::bit_width(v) - 1;  // >= kSubBits
    unsigned shift = exp - kSubBits;
    return (shift + 1) * kSub + ((v >> shift) & (kSub - 1));
  }

  static double midpoint(std::size_t i) {
    if (i < kSub) return static_cast<double>(i);
    unsigned shift = static_cast<unsigned>(i / kSub) - 1;
    double low = static_cast<double>((kSub + i % kSub) << shift);
    return low + static_cast<double>(1ULL << shift) / 2;
  }

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
};

struct Stats {
  std::uint64_t messages = 0;
  std::uint64_t errors = 0;
  std::uint64_t mismatches = 0;
  int established = 0;
  Histogram rtt;

  void merge(const Stats& o) {
    messages += o.messages;
    errors += o.errors;
    mismatches += o.mismatches;
    established += o.established;
    rtt.merge(o.rtt);
  }
};

// Lets threads start their measurement window together, but never waits past a deadline.
class StartGate {
 public:
  explicit StartGate(int parties) : parties_(parties) {}

  void arrive_and_wait(Nanos deadline) {
    arrived_.fetch_add(1);
    while (arrived_.load() < parties_ && now_ns() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

 private:
  const int parties_;
  std::atomic<int> arrived_{0};
};

// ---------------------------------------------------------------------------------------------
// One thread's share of the connections and its epoll loop. Owned and used by one thread only.

class Worker {
 public:
  Worker(const Config& cfg, const Endpoint& ep, const Pattern& pattern, StartGate& gate,
         std::vector<std::uint32_t> ids)
      : cfg_(cfg),
        ep_(ep),
        pattern_(pattern),
        gate_(gate),
        out_(kIoChunk),
        in_(kIoChunk),
        expect_(kIoChunk) {
    conns_.reserve(ids.size());
    for (auto id : ids)
      conns_.push_back(Conn{.id = id});
  }

  ~Worker() {
    for (auto& c : conns_)
      if (c.fd >= 0) close(c.fd);
    if (epfd_ >= 0) close(epfd_);
  }

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run(Nanos connect_deadline) {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) {
      stats_.errors += conns_.size();
      gate_.arrive_and_wait(connect_deadline);
      return;
    }
    connect_phase(connect_deadline);
    gate_.arrive_and_wait(connect_deadline);
    measure_phase();
    drain_phase();
  }

  const Stats& stats() const { return stats_; }

 private:
  enum class State { kUnopened, kConnecting, kInFlight, kIdle, kClosed };
  enum class Phase { kConnect, kMeasure, kDrain };

  struct Conn {
    std::uint32_t id = 0;
    int fd = -1;
    State state = State::kUnopened;
    bool want_write = false;  // EPOLLOUT armed because the socket buffer was full
    std::uint64_t seq = 0;
    std::uint64_t key = 0;
    std::size_t sent = 0;
    std::size_t received = 0;
    Nanos started = 0;
  };

  // --- phases ---

  void connect_phase(Nanos deadline) {
    phase_ = Phase::kConnect;
    for (;;) {
      admit_connects();
      if (pending_ == 0 || now_ns() >= deadline) break;  // no pending: every socket was opened
      poll_once(deadline);
    }
    // Whatever is not up by now never will be, as far as this run is concerned.
    for (auto& c : conns_)
      if (c.state != State::kIdle && c.state != State::kClosed) fail(c);
  }

  void measure_phase() {
    phase_ = Phase::kMeasure;
    Nanos start = now_ns();
    measure_end_ = start + seconds_to_ns(cfg_.seconds);
    for (auto& c : conns_)
      if (c.state == State::kIdle) start_message(c, start);
    while (in_flight_ > 0 && now_ns() < measure_end_)
      poll_once(measure_end_);
  }

  void drain_phase() {
    phase_ = Phase::kDrain;
    Nanos deadline = now_ns() + kDrainNs;
    while (in_flight_ > 0 && now_ns() < deadline)
      poll_once(deadline);
    // A message that did not come back within the drain window is lost: count it.
    for (auto& c : conns_)
      if (c.state == State::kInFlight) fail(c);
  }

  // Waits for events until `deadline` at the latest and handles them.
  void poll_once(Nanos deadline) {
    std::array<epoll_event, kMaxEvents> events;
    Nanos left = deadline - now_ns();
    int timeout_ms = static_cast<int>(std::clamp<Nanos>((left + 999'999) / 1'000'000, 0, 1000));
    int n = epoll_wait(epfd_, events.data(), kMaxEvents, timeout_ms);
    for (int i = 0; i < n; ++i) {
      Conn& c = conns_[events[i].data.u64];
      // An earlier event in this batch may have closed this connection already.
      if (c.state != State::kClosed) dispatch(c, events[i].events);
    }
  }

  void dispatch(Conn& c, std::uint32_t ev) {
    if (c.state == State::kConnecting) return on_connect_done(c);
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
    if (c.state == State::kInFlight && (ev & EPOLLOUT) && c.want_write) flush(c);
  }

  // --- connecting ---

  void admit_connects() {
    while (pending_ < kConnectBatch && next_open_ < conns_.size())
      open(conns_[next_open_++]);
  }

  void open(Conn& c) {
    c.fd = socket(ep_.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return fail(c);
    // Ping-pong messages must leave at once, not wait for the peer's delayed ACK.
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{.events = EPOLLOUT, .data = {.u64 = index_of(c)}};
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) return fail(c);
    c.state = State::kConnecting;
    ++pending_;
    int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&ep_.addr), ep_.len);
    if (rc != 0 && errno != EINPROGRESS) return fail(c);
    // On success or EINPROGRESS, the EPOLLOUT event reports the outcome.
  }

  void on_connect_done(Conn& c) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return fail(c);
    if (!set_interest(c, EPOLLIN)) return fail(c);
    start_message(c, now_ns());  // the warm-up echo; established once it returns
  }

  // --- messages ---

  void start_message(Conn& c, Nanos now) {
    c.state = State::kInFlight;
    ++in_flight_;
    c.key = Pattern::key(c.id, ++c.seq);
    c.sent = 0;
    c.received = 0;
    c.started = now;
    flush(c);
  }

  // Sends what is left of the current message until done or the socket buffer is full.
  void flush(Conn& c) {
    while (c.sent < cfg_.size) {
      std::size_t len = std::min(cfg_.size - c.sent, out_.size());
      pattern_.render(c.key, c.sent, len, out_.data());
      ssize_t n = send(c.fd, out_.data(), len, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.want_write && !set_interest(c, EPOLLIN | EPOLLOUT)) return fail(c);
        c.want_write = true;
        return;
      } else {
        return fail(c);
      }
    }
    if (c.want_write) {
      c.want_write = false;
      if (!set_interest(c, EPOLLIN)) return fail(c);
    }
  }

  // One recv per readiness event: level-triggered epoll reports again if more is waiting.
  void on_readable(Conn& c) {
    // Never read past the current message: surplus bytes from a faulty server then land at the
    // start of the next one and fail verification. Bytes arriving while idle are read and
    // counted as a mismatch straight away.
    std::size_t want = c.state == State::kInFlight ? cfg_.size - c.received : in_.size();
    want = std::min(want, in_.size());
    ssize_t n = recv(c.fd, in_.data(), want, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) return fail(c);  // reset, or the server closed the connection
    auto got = static_cast<std::size_t>(n);
    if (c.state != State::kInFlight || c.received + got > c.sent || !verify(c, got))
      return mismatch(c);
    c.received += got;
    if (c.received == cfg_.size) complete(c);
  }

  bool verify(const Conn& c, std::size_t got) {
    pattern_.render(c.key, c.received, got, expect_.data());
    return std::memcmp(in_.data(), expect_.data(), got) == 0;
  }

  void complete(Conn& c) {
    Nanos now = now_ns();
    c.state = State::kIdle;
    --in_flight_;
    switch (phase_) {
      case Phase::kConnect:
        --pending_;  // connect_phase() hands the slot to the next connection
        ++stats_.established;
        break;
      case Phase::kMeasure:
        if (now > measure_end_) break;  // finished after the window: not counted
        ++stats_.messages;
        stats_.rtt.record(now - c.started);
        start_message(c, now);  // the clock read that ended this message starts the next
        break;
      case Phase::kDrain:
        break;
    }
  }

  // --- failures ---

  // A connection that failed is closed for good and counted once; it is not reconnected.
  void fail(Conn& c) {
    if (c.state == State::kClosed) return;
    ++stats_.errors;
    discard(c);
  }

  // Wrong bytes: the stream can no longer be trusted, so the connection ends too.
  void mismatch(Conn& c) {
    ++stats_.mismatches;
    discard(c);
  }

  void discard(Conn& c) {
    bool was_pending =
        c.state == State::kConnecting || (phase_ == Phase::kConnect && c.state == State::kInFlight);
    if (c.state == State::kInFlight) --in_flight_;
    if (c.fd >= 0) close(c.fd);  // also removes it from the epoll set
    c.fd = -1;
    c.state = State::kClosed;
    if (was_pending) --pending_;
  }

  bool set_interest(Conn& c, std::uint32_t events) {
    epoll_event ev{.events = events, .data = {.u64 = index_of(c)}};
    return epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev) == 0;
  }

  std::uint64_t index_of(const Conn& c) const {
    return static_cast<std::uint64_t>(&c - conns_.data());
  }

  const Config& cfg_;
  const Endpoint& ep_;
  const Pattern& pattern_;
  StartGate& gate_;
  std::vector<Conn> conns_;
  std::vector<std::uint8_t> out_, in_, expect_;  // scratch buffers, one chunk each
  int epfd_ = -1;
  Phase phase_ = Phase::kConnect;
  std::size_t next_open_ = 0;
  std::size_t pending_ = 0;    // connecting or waiting for the warm-up echo
  std::size_t in_flight_ = 0;  // messages sent and not yet fully echoed
  Nanos measure_end_ = 0;
  Stats stats_;
};

// ---------------------------------------------------------------------------------------------
// Driver

struct Report {
  const Config& cfg;
  const Stats& stats;

  double msgs_per_sec() const { return static_cast<double>(stats.messages) / cfg.seconds; }
  double mb_per_sec() const { return msgs_per_sec() * static_cast<double>(cfg.size) / 1e6; }
  double p50_us() const { return stats.rtt.quantile(0.50) / 1e3; }
  double p99_us() const { return stats.rtt.quantile(0.99) / 1e3; }

  void print_human() const {
    fmt::print(
        "echo-load: {} connections ({} up), {} B, {:.2f} s: {} messages, {:.0f} msg/s, "
        "{:.2f} MB/s, rtt p50 {:.1f} us p99 {:.1f} us, errors {}, mismatches {}\n",
        cfg.connections, stats.established, cfg.size, cfg.seconds, stats.messages, msgs_per_sec(),
        mb_per_sec(), p50_us(), p99_us(), stats.errors, stats.mismatches);
  }

  void print_json() const {
    fmt::print(
        "{{\"connections\":{},\"size\":{},\"seconds\":{},\"messages\":{},\"msgs_per_sec\":{:.1f},"
        "\"mb_per_sec\":{:.3f},\"p50_us\":{:.1f},\"p99_us\":{:.1f},\"errors\":{},"
        "\"mismatches\":{}}}\n",
        cfg.connections, cfg.size, cfg.seconds, stats.messages, msgs_per_sec(), mb_per_sec(),
        p50_us(), p99_us(), stats.errors, stats.mismatches);
  }
};

// Last line of defence against a hang (a bug, or a kernel that stops answering): the run has a
// known upper bound, so past it the process ends itself.
void start_watchdog(Nanos hard_deadline) {
  std::thread([hard_deadline] {
    std::this_thread::sleep_for(std::chrono::nanoseconds(hard_deadline - now_ns()));
    fmt::print(stderr, "echo-load: watchdog: run did not finish in time, aborting\n");
    std::_Exit(3);
  }).detach();
}

Stats run(const Config& cfg, const Endpoint& ep) {
  Pattern pattern(cfg.size);
  StartGate gate(cfg.threads);
  Nanos connect_deadline = now_ns() + seconds_to_ns(cfg.connect_timeout);

  std::vector<std::vector<std::uint32_t>> shares(cfg.threads);
  for (int i = 0; i < cfg.connections; ++i)
    shares[i % cfg.threads].push_back(static_cast<std::uint32_t>(i));

  std::vector<std::unique_ptr<Worker>> workers;
  for (auto& share : shares)
    workers.push_back(std::make_unique<Worker>(cfg, ep, pattern, gate, std::move(share)));
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&w, connect_deadline] { w->run(connect_deadline); });
  for (auto& t : threads)
    t.join();

  Stats total;
  for (auto& w : workers)
    total.merge(w->stats());
  return total;
}

Config parse_args(int argc, char** argv) {
  Config cfg;
  CLI::App app{"Ping-pong TCP load generator for echo servers"};
  app.add_option("--connect", cfg.target, "Server address, HOST:PORT or [V6HOST]:PORT")->required();
  app.add_option("--connections", cfg.connections, "Number of connections")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--size", cfg.size, "Message size in bytes")
      ->check(CLI::Range(std::size_t{1}, std::size_t{64} << 20));
  app.add_option("--seconds", cfg.seconds, "Length of the measurement window")
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--threads", cfg.threads, "Threads, each with its own epoll loop")
      ->check(CLI::Range(1, 1024));
  app.add_flag("--json", cfg.json, "Print one JSON object instead of a line of text");
  app.add_option("--connect-timeout", cfg.connect_timeout,
                 "Time allowed to establish all connections, in seconds")
      ->check(CLI::Range(0.001, 3600.0));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  cfg.threads = std::min(cfg.threads, cfg.connections);
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg = parse_args(argc, argv);
  Endpoint ep;
  try {
    ep = resolve(cfg.target);
  } catch (const std::exception& e) {
    fmt::print(stderr, "echo-load: {}\n", e.what());
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a reset peer must be an error count, not a dead process
  raise_nofile_limit(cfg.connections);
  start_watchdog(now_ns() + seconds_to_ns(cfg.connect_timeout + cfg.seconds) + kDrainNs +
                 kWatchdogSlackNs);

  Stats stats = run(cfg, ep);
  Report report{cfg, stats};
  if (cfg.json)
    report.print_json();
  else
    report.print_human();
  return stats.mismatches == 0 && stats.messages > 0 ? 0 : 1;
}
