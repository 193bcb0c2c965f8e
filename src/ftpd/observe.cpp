#include "ftpd/observe.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include "ftpd/supervise.hpp"
#include "muxio/thread_pool.hpp"
#include "muxio/time.hpp"

namespace muxio::ftpd {

namespace {

using namespace std::chrono_literals;

constexpr Duration kSamplePeriod = 1s;
constexpr std::size_t kMaxRequestHead = 8192;
constexpr Duration kRequestTimeout = 5s;

bool is_loopback(const SocketAddress& a) {
  std::string ip = a.ip();
  return ip.rfind("127.", 0) == 0 || ip == "::1" || ip.rfind("::ffff:127.", 0) == 0;
}

std::int64_t count_open_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  std::int64_t n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

// Reads the request head into buf until it parses (or fails to).
Task<std::error_code> read_head(TcpStream& stream, std::string& buf, HttpRequest& req,
                                HttpParse& status) {
  std::array<std::byte, 1024> chunk;
  while (status == HttpParse::incomplete) {
    auto n = co_await stream.read_some(chunk);
    if (!n) co_return n.error();
    if (*n == 0) co_return make_error_code(std::errc::connection_reset);
    buf.append(reinterpret_cast<const char*>(chunk.data()), *n);
    status = parse_http_request(buf, kMaxRequestHead, req);
  }
  co_return std::error_code{};
}

}  // namespace

Observer::Observer(ServerContext& ctx, std::vector<EventLoop*> loops)
    : ctx_(ctx), loops_(std::move(loops)), samplers_(loops_.size()) {}

Observer::~Observer() = default;

std::error_code Observer::start(std::string* error) {
  ctx_.metrics.set_loop_count(loops_.size());
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    samplers_[i].due = Clock::now() + kSamplePeriod;
    samplers_[i].timer = loops_[i]->call_later(kSamplePeriod, [this, i] { sample(i); });
  }
  const std::string& text = ctx_.config.metrics_listen;
  if (text.empty()) return {};
  auto addr = SocketAddress::parse(text);
  if (!addr) {
    *error = "metrics_listen: '" + text + "': " + addr.error().message();
    return addr.error();
  }
  if (!is_loopback(*addr) && !ctx_.config.metrics_allow_remote) {
    *error = "metrics_listen: " + text +
             " is not a loopback address; the metrics are not authenticated: set "
             "metrics_allow_remote (--metrics-allow-remote) to serve them there";
    return errno_code(EINVAL);
  }
  auto l = TcpListener::bind(*loops_[0], *addr);
  if (!l) {
    *error = "metrics_listen: listen on " + addr->to_string() + ": " + l.error().message();
    return l.error();
  }
  metrics_address_ = *l->local_address();
  listener_ = std::make_unique<TcpListener>(std::move(*l));
  acceptor_ = loops_[0]->spawn(accept_loop(*listener_));
  return {};
}

std::size_t Observer::tasks_on(const EventLoop& loop) const {
  if (loops_.empty() || &loop != loops_[0] || !listener_) return 0;
  return (acceptor_.done() ? 0 : 1) + *connections_;
}

void Observer::stop_on(EventLoop& loop) {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    if (loops_[i] != &loop) continue;
    samplers_[i].stopped = true;
    loop.cancel_timer(samplers_[i].timer);
  }
  if (&loop != loops_[0] || !listener_) return;
  acceptor_.cancel();
  auto deadline = Clock::now() + 1s;
  while (!acceptor_.done() && Clock::now() < deadline)
    loop.run_once(10ms);
  if (acceptor_.done()) listener_->close();
}

void Observer::sample(std::size_t index) {
  Sampler& s = samplers_[index];
  EventLoop& loop = *loops_[index];
  if (s.stopped) return;
  auto now = Clock::now();
  auto period = now - (s.due - kSamplePeriod);
  double lag = std::chrono::duration<double>(now - s.due).count();
  auto waited = loop.time_waiting() - s.waited;
  double busy = 1.0 - std::chrono::duration<double>(waited).count() /
                          std::max(1e-9, std::chrono::duration<double>(period).count());
  auto& gauges = ctx_.metrics.loop(index);
  gauges.lag_seconds.store(std::max(0.0, lag), std::memory_order_relaxed);
  gauges.busy_ratio.store(std::clamp(busy, 0.0, 1.0), std::memory_order_relaxed);
  s.waited = loop.time_waiting();
  s.due = now + kSamplePeriod;
  s.timer = loop.call_later(kSamplePeriod, [this, index] { sample(index); });
  // The first loop also tells systemd how many sessions there are, when that changed.
  if (index == 0) {
    std::uint64_t n = ctx_.sessions_open.load();
    if (n != last_status_sessions_) {
      last_status_sessions_ = n;
      sd_notify((ctx_.shutting_down ? "STATUS=Draining, " : "STATUS=Serving, ") +
                std::to_string(n) + " session(s)");
    }
  }
}

std::string Observer::scrape() {
  Metrics::Scrape s;
  s.sessions = ctx_.sessions_open.load();
  s.offload_queue = loops_[0]->offload_pool().queued();
  s.open_fds = count_open_fds();
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    s.max_fds = rl.rlim_cur == RLIM_INFINITY ? -1 : static_cast<std::int64_t>(rl.rlim_cur);
  }
  s.draining = ctx_.shutting_down;
  return ctx_.metrics.render(s);
}

std::string Observer::respond(HttpParse status, const HttpRequest& req) {
  if (status == HttpParse::too_large) return http_response(431, "text/plain", "too large\n", false);
  if (status != HttpParse::ok) return http_response(400, "text/plain", "bad request\n", false);
  bool known = req.path == "/metrics" || req.path == "/healthz";
  if (!known) return http_response(404, "text/plain", "not found\n", req.method == "HEAD");
  if (req.method != "GET" && req.method != "HEAD") {
    return http_response(405, "text/plain", "method not allowed\n", false, "Allow: GET, HEAD\r\n");
  }
  bool head = req.method == "HEAD";
  if (req.path == "/healthz") {
    // Draining after SIGTERM: a balancer that checks this stops sending new clients here.
    if (ctx_.shutting_down) return http_response(503, "text/plain", "draining\n", head);
    return http_response(200, "text/plain", "ok\n", head);
  }
  return http_response(200, "text/plain; version=0.0.4; charset=utf-8", scrape(), head);
}

Task<void> Observer::accept_loop(TcpListener& listener) {
  for (;;) {
    auto accepted = co_await listener.accept();
    if (!accepted) {
      if (accepted.error() == Error::cancelled) co_return;
      std::error_code stopped = co_await sleep_for(100ms);  // out of descriptors: back off
      if (stopped) co_return;
      continue;
    }
    ++*connections_;
    loops_[0]->spawn(serve(*this, connections_, std::move(accepted->stream)));
  }
}

Task<void> Observer::serve(Observer& self, std::shared_ptr<std::size_t> count, TcpStream stream) {
  struct Count {
    std::shared_ptr<std::size_t> n;
    ~Count() { --*n; }
  } counted{std::move(count)};
  std::string buf;
  HttpRequest req;
  HttpParse status = HttpParse::incomplete;
  std::error_code ec = co_await with_timeout(kRequestTimeout, read_head(stream, buf, req, status));
  std::string response;
  if (ec == Error::timed_out) {
    response = http_response(408, "text/plain", "timeout\n", false);
  } else if (ec) {
    co_return;
  } else {
    response = self.respond(status, req);
  }
  auto bytes = std::as_bytes(std::span<const char>(response.data(), response.size()));
  std::error_code sent = co_await with_timeout(kRequestTimeout, stream.write_all(bytes));
  if (!sent) (void)co_await with_timeout(1s, stream.shutdown());
  stream.close();
}

}  // namespace muxio::ftpd
