#include "ftpd/server.hpp"

#include <csignal>
#include <thread>

#include "ftpd/session.hpp"
#include "muxio/time.hpp"

namespace muxio::ftpd {

namespace {

using namespace std::chrono_literals;

Task<void> run_session(EventLoop& loop, ServerContext& ctx, TcpStream stream, SocketAddress peer) {
  Session session(loop, ctx, std::move(stream), peer);
  co_await session.run();
}

}  // namespace

Server::Server(ServerContext& context) : ctx_(context) {}

Server::~Server() {
  // Listeners unregister from their loops, so they go first.
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
  }
  for (const auto& text : ctx_.config.listen) {
    auto addr = SocketAddress::parse(text);
    if (!addr) {
      *error = "listen address '" + text + "': " + addr.error().message();
      return addr.error();
    }
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
      loop->spawn(accept_loop(*loop, *listeners_.back()));
    }
    bound_.push_back(*addr);
  }
  return {};
}

std::string Server::backend_name() const {
  return loops_.empty() ? "" : std::string(loops_[0]->selector().name());
}

Task<void> Server::accept_loop(EventLoop& loop, TcpListener& listener) {
  for (;;) {
    auto accepted = co_await listener.accept();
    if (!accepted) {
      if (accepted.error() == Error::cancelled) co_return;
      ctx_.log->warn("accept: {}", accepted.error().message());
      if (co_await sleep_for(100ms)) co_return;  // out of descriptors: back off
      continue;
    }
    (void)accepted->stream.set_nodelay(true);
    loop.spawn(run_session(loop, ctx_, std::move(accepted->stream), accepted->peer));
  }
}

void Server::run_loop(EventLoop& loop) {
  loop.run();
  // Graceful stop: every task is cancelled and gets a few seconds to finish its clean-up
  // (abort transfers, remove temporary uploads, say goodbye).
  loop.cancel_all();
  auto deadline = Clock::now() + 5s;
  while (loop.task_count() > 0 && Clock::now() < deadline)
    loop.run_once(100ms);
}

void Server::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < loops_.size(); ++i) {
    threads.emplace_back([this, i] { run_loop(*loops_[i]); });
  }
  auto stop_all = [this] { stop(); };
  (void)loops_[0]->add_signal_handler(SIGINT, stop_all);
  (void)loops_[0]->add_signal_handler(SIGTERM, stop_all);
  run_loop(*loops_[0]);
  for (auto& t : threads)
    t.join();
}

void Server::stop() {
  for (auto& loop : loops_)
    loop->stop();
}

}  // namespace muxio::ftpd
