// Server: N event loops on N threads, each accepting on its own SO_REUSEPORT listeners and
// running its sessions; a session never changes loop. Graceful stop: stop() makes every loop
// cancel its tasks (sessions finish or abort their transfers and say goodbye) and return.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ftpd/server_context.hpp"
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
  std::string backend_name() const;
  std::size_t loop_count() const { return loops_.size(); }
  // Runs loop 0 on the calling thread and the others on threads of their own, until stop().
  void run();
  void stop();  // thread-safe; also what SIGINT and SIGTERM do

 private:
  Task<void> accept_loop(EventLoop& loop, TcpListener& listener);
  void run_loop(EventLoop& loop);

  ServerContext& ctx_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<std::unique_ptr<TcpListener>> listeners_;
  std::vector<SocketAddress> bound_;
};

}  // namespace muxio::ftpd
