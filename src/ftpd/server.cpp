#include "ftpd/server.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <csignal>
#include <thread>

#include "ftp/reply.hpp"
#include "ftpd/observe.hpp"
#include "ftpd/proxy_accept.hpp"
#include "ftpd/session.hpp"
#include "ftpd/supervise.hpp"
#include "muxio/time.hpp"

namespace muxio::ftpd {

namespace {

using namespace std::chrono_literals;

// `place` (the session's place for its address) lives in the frame: given back at the end.
Task<void> run_session(EventLoop& loop, ServerContext& ctx, TcpStream stream, SocketAddress peer,
                       [[maybe_unused]] AccessGuard::Slot place, bool implicit_tls) {
  Session session(loop, ctx, std::move(stream), peer);
  if (implicit_tls) session.start_with_tls();
  co_await session.run();
}

// A refused connection costs no session: one non-blocking send of the 421 into the empty socket
// buffer (it fits), then close.
void refuse(ServerContext& ctx, TcpStream& stream, const SocketAddress& peer, Refusal why) {
  ctx.log->info("{} refused: {}", peer.to_string(), AccessGuard::describe(why));
  ctx.metrics.connection_refused(static_cast<Metrics::Refused>(static_cast<int>(why) - 1));
  std::string wire = ftp::format_reply(421, AccessGuard::describe(why));
  (void)::send(stream.fd(), wire.data(), wire.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

// A connection to a PROXY protocol listener: the header names the client, and only then are the
// per-address limits and bans checked, against the client's address.
Task<void> run_proxied_session(EventLoop& loop, ServerContext& ctx, TcpStream stream,
                               SocketAddress peer, ProxyMode mode, bool implicit_tls) {
  ProxyOutcome proxy = co_await read_proxy_header(stream, peer, mode, ctx.config.network);
  if (!proxy.accepted) {
    ctx.log->warn("{} closed: {}", peer.to_string(), proxy.error);
    co_return;
  }
  if (proxy.version != 0) {
    ctx.log->debug("{} via PROXY v{} from {}", proxy.client.to_string(), proxy.version,
                   peer.to_string());
  }
  auto admission = ctx.access.admit_connection(proxy.client.ip());
  if (admission.refusal != Refusal::none) {
    refuse(ctx, stream, proxy.client, admission.refusal);
    co_return;
  }
  Session session(loop, ctx, std::move(stream), proxy.client);
  if (proxy.destination) session.set_proxy_destination(*proxy.destination);
  if (implicit_tls) session.start_with_tls();
  co_await session.run();
}

}  // namespace

Server::Server(ServerContext& context) : ctx_(context) {}

Server::~Server() {
  // Listeners unregister from their loops, so they go first.
  observer_.reset();
  listeners_.clear();
  loops_.clear();
}

std::error_code Server::start(std::string* error) {
  unsigned n = ctx_.config.threads != 0 ? ctx_.config.threads
                                        : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    try {
      loops_.push_back(std::make_unique<EventLoop>(ctx_.config.io));
    } catch (const std::system_error& e) {
      *error = std::string("--io ") + ctx_.config.io + ": " + e.what();
      return e.code();
    }
    ctx_.sessions[loops_.back().get()];  // the loop's (empty) set of sessions
  }
  if (!inherited_.empty()) {
    if (auto ec = adopt_inherited(error)) return ec;
  }
  for (const auto& text : inherited_.empty() ? ctx_.config.listen : std::vector<std::string>{}) {
    if (auto ec = listen_on(text, false, error)) return ec;
  }
  for (const auto& text :
       inherited_.empty() ? ctx_.config.implicit_tls_listen : std::vector<std::string>{}) {
    if (!ctx_.tls) {
      *error = "implicit TLS listener " + text + " without a TLS certificate";
      return errno_code(EINVAL);
    }
    if (auto ec = listen_on(text, true, error)) return ec;
  }
  std::vector<EventLoop*> loops;
  for (auto& loop : loops_)
    loops.push_back(loop.get());
  observer_ = std::make_unique<Observer>(ctx_, std::move(loops));
  if (auto ec = observer_->start(error)) return ec;
  // Before the caller says "listening": a SIGTERM sent as soon as it reads that line must drain
  // the server, not kill it with the default action.
  install_signal_handlers();
  return {};
}

void Server::install_signal_handlers() {
  auto stop_all = [this] { stop(); };
  (void)loops_[0]->add_signal_handler(SIGINT, stop_all);
  (void)loops_[0]->add_signal_handler(SIGTERM, stop_all);
  if (on_hangup_) {
    (void)loops_[0]->add_signal_handler(SIGHUP, [this] {
      sd_notify("RELOADING=1");
      on_hangup_();
      sd_notify("READY=1");
    });
  }
}

std::optional<SocketAddress> Server::metrics_address() const {
  return observer_ ? observer_->metrics_address() : std::nullopt;
}

std::error_code Server::adopt_inherited(std::string* error) {
  // One socket, shared by every loop through a duplicate descriptor each: the kernel wakes the
  // loops and one of them wins each connection.
  for (const auto& s : inherited_) {
    bool implicit_tls = s.name == "implicit-tls";
    if (implicit_tls && !ctx_.tls) {
      *error = "inherited socket " + std::to_string(s.fd) +
               " named implicit-tls without a TLS certificate";
      return errno_code(EINVAL);
    }
    SocketAddress addr;
    for (std::size_t i = 0; i < loops_.size(); ++i) {
      int fd = i == 0 ? s.fd : ::fcntl(s.fd, F_DUPFD_CLOEXEC, 3);
      if (fd < 0) return errno_code(errno);
      auto l = TcpListener::adopt(*loops_[i], fd);
      if (!l) {
        *error = "inherited socket " + std::to_string(s.fd) + " (" + s.name +
                 "): not a listening TCP socket: " + l.error().message();
        return l.error();
      }
      if (auto a = l->local_address()) addr = *a;
      // A per-listener proxy_protocol entry names the address the socket is bound to.
      const ProxyMode proxy = proxy_mode_for(ctx_.config.network, addr.to_string());
      listeners_.push_back(std::make_unique<TcpListener>(std::move(*l)));
      TcpListener* listener = listeners_.back().get();
      acceptors_.push_back(
          {loops_[i].get(), listener,
           loops_[i]->spawn(accept_loop(*loops_[i], *listener, implicit_tls, proxy))});
    }
    (implicit_tls ? implicit_bound_ : bound_).push_back(addr);
  }
  return {};
}

std::error_code Server::listen_on(const std::string& text, bool implicit_tls, std::string* error) {
  auto addr = SocketAddress::parse(text);
  if (!addr) {
    *error = "listen address '" + text + "': " + addr.error().message();
    return addr.error();
  }
  // The loops share the port through SO_REUSEPORT, which would as well let a second muxftpd
  // share it without a word: that one must fail here instead. (Port 0 picks a free port.)
  if (loops_.size() > 1 && addr->port() != 0) {
    if (auto ec = TcpListener::check_port_free(*addr)) {
      *error = "listen on " + addr->to_string() + ": " + ec.message() +
               (ec == std::errc::address_in_use ? " (another server listens there)" : "");
      return ec;
    }
  }
  const ProxyMode proxy = proxy_mode_for(ctx_.config.network, text);
  // Port 0 means "any": the first loop picks it, the others join that port.
  for (auto& loop : loops_) {
    auto l = TcpListener::bind(*loop, *addr, {.reuse_port = loops_.size() > 1});
    if (!l) {
      *error = "listen on " + addr->to_string() + ": " + l.error().message();
      return l.error();
    }
    if (addr->port() == 0) {
      addr = *l->local_address();
    }
    listeners_.push_back(std::make_unique<TcpListener>(std::move(*l)));
    TcpListener* listener = listeners_.back().get();
    acceptors_.push_back(
        {loop.get(), listener, loop->spawn(accept_loop(*loop, *listener, implicit_tls, proxy))});
  }
  (implicit_tls ? implicit_bound_ : bound_).push_back(*addr);
  return {};
}

std::string Server::backend_name() const {
  return loops_.empty() ? "" : std::string(loops_[0]->selector().name());
}

Task<void> Server::accept_loop(EventLoop& loop, TcpListener& listener, bool implicit_tls,
                               ProxyMode proxy) {
  // Out of descriptors, accept fails every back-off period: the first failure is logged, the
  // repeats only counted, and the count is logged when accepting works again.
  std::uint64_t repeated_failures = 0;
  for (;;) {
    auto accepted = co_await listener.accept();
    if (!accepted) {
      if (accepted.error() == Error::cancelled) co_return;
      if (repeated_failures++ == 0) ctx_.log->warn("accept: {}", accepted.error().message());
      std::error_code stopped = co_await sleep_for(100ms);  // out of descriptors: back off
      if (stopped) co_return;
      continue;
    }
    if (repeated_failures > 1) {
      ctx_.log->warn("accept works again after {} failures", repeated_failures);
    }
    repeated_failures = 0;
    if (proxy != ProxyMode::off) {
      (void)accepted->stream.set_nodelay(true);
      loop.spawn(run_proxied_session(loop, ctx_, std::move(accepted->stream), accepted->peer, proxy,
                                     implicit_tls));
      continue;
    }
    auto admission = ctx_.access.admit_connection(accepted->peer.ip());
    if (admission.refusal != Refusal::none) {
      refuse(ctx_, accepted->stream, accepted->peer, admission.refusal);
      continue;  // the stream closes here
    }
    (void)accepted->stream.set_nodelay(true);
    loop.spawn(run_session(loop, ctx_, std::move(accepted->stream), accepted->peer,
                           std::move(admission.slot), implicit_tls));
  }
}

void Server::run_loop(EventLoop& loop) {
  loop.run();  // until the first stop()
  stop_accepting(loop);
  if (!stop_now_) drain(loop);
  observer_->stop_on(loop);
  // A session stuck in a reply its client does not read would outlast any grace period, even
  // the shielded goodbye replies below (end_grace does not end any session itself).
  for (Session* s : ctx_.sessions.at(&loop))
    s->end_grace();
  // What is left is cancelled and gets a few seconds to finish its clean-up (abort transfers,
  // remove temporary uploads, say goodbye).
  loop.cancel_all();
  auto deadline = Clock::now() + 5s;
  while (loop.task_count() > 0 && Clock::now() < deadline)
    loop.run_once(100ms);
}

void Server::stop_accepting(EventLoop& loop) {
  for (auto& a : acceptors_) {
    if (a.loop == &loop) a.task.cancel();
  }
  // A cancelled accept_loop ends at one of the next turns; the listener it waits on must outlive
  // it. Then closing the listener makes the kernel refuse new connections.
  auto deadline = Clock::now() + 1s;
  for (auto& a : acceptors_) {
    if (a.loop != &loop) continue;
    while (!a.task.done() && Clock::now() < deadline)
      loop.run_once(10ms);
    if (a.task.done()) a.listener->close();
  }
}

void Server::drain(EventLoop& loop) {
  // Idle sessions say 421 and end now; a session with a transfer ends after it (session.hpp).
  // Copied: a session leaves the set as it ends.
  auto sessions = ctx_.sessions.at(&loop);
  for (Session* s : sessions)
    s->shut_down();
  auto deadline = Clock::now() + ctx_.settings()->shutdown_grace;
  // The observer's tasks (the metrics listener, which answers 503 on /healthz meanwhile) are
  // not waited for.
  auto busy = [&] { return loop.task_count() > observer_->tasks_on(loop); };
  while (busy() && Clock::now() < deadline && !stop_now_)
    loop.run_once(100ms);
  if (busy()) {
    ctx_.log->info("shutdown: {} task(s) still running; cancelling them",
                   loop.task_count() - observer_->tasks_on(loop));
  }
}

void Server::run() {
  std::vector<std::thread> threads;
  std::atomic<std::size_t> others_running = loops_.size() - 1;
  for (std::size_t i = 1; i < loops_.size(); ++i) {
    threads.emplace_back([this, i, &others_running] {
      run_loop(*loops_[i]);
      --others_running;
    });
  }
  run_loop(*loops_[0]);
  // Loop 0 receives the signals: it goes on listening for a second SIGTERM while the other
  // loops drain.
  while (others_running > 0)
    loops_[0]->run_once(100ms);
  for (auto& t : threads)
    t.join();
}

void Server::stop() {
  // The first request drains; a second one (an impatient operator) ends the grace period.
  if (!ctx_.shutting_down) sd_notify("STOPPING=1\nSTATUS=Draining");
  if (ctx_.shutting_down.exchange(true)) {
    stop_now_ = true;
  } else {
    ctx_.log->info("shutting down: no new connections, transfers may finish within {} s",
                   ctx_.settings()->shutdown_grace.count());
  }
  for (auto& loop : loops_)
    loop->stop();  // also wakes a loop that is draining
}

}  // namespace muxio::ftpd
