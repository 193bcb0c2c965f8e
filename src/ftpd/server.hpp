// Server: N event loops on N threads, each accepting on its own SO_REUSEPORT listeners and
// running its sessions; a session never changes loop.
//
// Graceful stop: the first stop() (SIGTERM, SIGINT) closes every listener at once, so new
// connections are refused; idle sessions say 421 and close; running transfers may finish within
// the shutdown grace period (config shutdown_grace), after which whatever is left is cancelled
// (426 for the transfer, 421 for its session). A second stop() skips the grace period.
// SIGHUP runs the hang-up handler (muxftpd: reload users and settings).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ftpd/server_context.hpp"
#include "ftpd/supervise.hpp"
#include "muxio/tcp_listener.hpp"

namespace muxio::ftpd {

class Server {
 public:
  explicit Server(ServerContext& context);
  ~Server();

  // Creates the loops and binds every listener on each; the first error is fatal.
  std::error_code start(std::string* error);
  // The addresses actually bound (ports resolved when 0 was asked for).
  const std::vector<SocketAddress>& addresses() const { return bound_; }
  const std::vector<SocketAddress>& implicit_tls_addresses() const { return implicit_bound_; }
  std::string backend_name() const;
  std::size_t loop_count() const { return loops_.size(); }
  // Runs loop 0 on the calling thread and the others on threads of their own, until stop().
  void run();
  void stop();  // thread-safe; also what SIGINT and SIGTERM do
  // Runs on loop 0 for every SIGHUP; set before run().
  void on_hangup(std::function<void()> handler) { on_hangup_ = std::move(handler); }
  // Systemd socket activation: listen on these inherited sockets instead of binding the
  // configured addresses (a socket named "implicit-tls" is an implicit-TLS listener). Before
  // start().
  void adopt_listeners(std::vector<InheritedSocket> sockets) { inherited_ = std::move(sockets); }
  // The metrics listener's address, when metrics_listen is set.
  std::optional<SocketAddress> metrics_address() const;

 private:
  std::error_code adopt_inherited(std::string* error);
  std::error_code listen_on(const std::string& text, bool implicit_tls, std::string* error);
  Task<void> accept_loop(EventLoop& loop, TcpListener& listener, bool implicit_tls,
                         ProxyMode proxy);
  void run_loop(EventLoop& loop);
  void stop_accepting(EventLoop& loop);
  void drain(EventLoop& loop);
  // SIGINT/SIGTERM drain (a second one stops), SIGHUP reloads; on loop 0, at the end of start().
  void install_signal_handlers();

  ServerContext& ctx_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<std::unique_ptr<TcpListener>> listeners_;
  // Each accept_loop task, with its loop and listener: a shutdown ends the task, then closes
  // the listener.
  struct Acceptor {
    EventLoop* loop;
    TcpListener* listener;
    TaskHandle task;
  };
  std::vector<Acceptor> acceptors_;
  std::function<void()> on_hangup_;
  std::vector<InheritedSocket> inherited_;
  std::unique_ptr<class Observer> observer_;  // metrics, loop samplers (observe.hpp)
  std::atomic<bool> stop_now_{false};         // a second stop(): no grace period
  std::vector<SocketAddress> bound_;
  std::vector<SocketAddress> implicit_bound_;
};

}  // namespace muxio::ftpd
