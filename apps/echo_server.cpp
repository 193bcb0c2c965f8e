// echo-server: echoes every byte back, one coroutine per connection, on any IO backend.
// N threads run N loops, each with its own SO_REUSEPORT listener: the kernel spreads the
// connections and a connection never leaves its loop.
#include <CLI/CLI.hpp>
#include <array>
#include <csignal>
#include <cstdio>
#include <thread>
#include <vector>

#include "muxio/muxio.hpp"

namespace {

using namespace std::chrono_literals;
using muxio::Task;

struct Options {
  std::string io = "best";
  std::string listen = "127.0.0.1:7000";
  unsigned threads = 1;
};

Task<void> echo(muxio::TcpStream stream) {
  std::array<std::byte, 16 * 1024> buf;
  for (;;) {
    auto n = co_await stream.recv(buf);
    if (!n || *n == 0) co_return;
    if (auto ec = co_await stream.send_all(std::span(buf.data(), *n))) co_return;
  }
}

Task<void> accept_loop(muxio::EventLoop& loop, muxio::TcpListener& listener) {
  for (;;) {
    auto accepted = co_await listener.accept();
    if (!accepted) {
      if (accepted.error() == muxio::Error::cancelled) co_return;
      std::fprintf(stderr, "echo-server: accept: %s\n", accepted.error().message().c_str());
      co_await muxio::sleep_for(50ms);  // out of descriptors: let connections close first
      continue;
    }
    (void)accepted->stream.set_nodelay(true);
    loop.spawn(echo(std::move(accepted->stream)));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"echo-server: a muxio echo server on the IO backend of your choice"};
  std::string backends = "IO backend: " + muxio::backend_names_joined();
  for (const auto& b : muxio::backend_names()) {
    backends += "\n  " + std::string(b.name) + ": " + std::string(b.description);
  }
  app.add_option("--io", opt.io, backends)->capture_default_str();
  app.add_option("--listen", opt.listen, "HOST:PORT or [IPv6]:PORT")->capture_default_str();
  app.add_option("--threads", opt.threads, "event loops (SO_REUSEPORT when > 1)")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto addr = muxio::SocketAddress::parse(opt.listen);
  if (!addr) {
    std::fprintf(stderr, "echo-server: --listen %s: %s\n", opt.listen.c_str(),
                 addr.error().message().c_str());
    return 2;
  }
  if (auto probe = muxio::make_backend(opt.io); !probe) {
    std::fprintf(stderr, "echo-server: --io %s: %s\n", opt.io.c_str(),
                 probe.error().message().c_str());
    return 2;
  }

  std::signal(SIGPIPE, SIG_IGN);
  try {
    // Every loop and listener is set up here, before any thread runs; each thread then only
    // runs its own loop. Loop 0 runs on the main thread and handles the signals.
    std::vector<std::unique_ptr<muxio::EventLoop>> loops;
    std::vector<muxio::TcpListener> listeners;
    listeners.reserve(opt.threads);  // accept_loop keeps a reference: no reallocation
    for (unsigned i = 0; i < opt.threads; ++i) {
      auto& loop = *loops.emplace_back(std::make_unique<muxio::EventLoop>(opt.io));
      auto listener = muxio::TcpListener::bind(loop, *addr, {.reuse_port = opt.threads > 1});
      if (!listener) {
        std::fprintf(stderr, "echo-server: listen on %s: %s\n", addr->to_string().c_str(),
                     listener.error().message().c_str());
        return 1;
      }
      listeners.push_back(std::move(*listener));
      loop.spawn(accept_loop(loop, listeners.back()));
    }
    auto stop_all = [&] {
      for (auto& l : loops)
        l->stop();
    };
    (void)loops[0]->add_signal_handler(SIGINT, stop_all);
    (void)loops[0]->add_signal_handler(SIGTERM, stop_all);
    std::printf("echo-server: %s on %s, %u loop(s)\n",
                std::string(loops[0]->selector().name()).c_str(),
                listeners[0].local_address()->to_string().c_str(), opt.threads);
    std::fflush(stdout);
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < opt.threads; ++i) {
      threads.emplace_back([&loop = *loops[i]] { loop.run(); });
    }
    loops[0]->run();
    for (auto& t : threads)
      t.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo-server: %s\n", e.what());
    return 1;
  }
  return 0;
}
