// Observer: what muxftpd shows of itself while it runs — a sampler on each loop (lag, busy
// ratio, systemd STATUS=) and the metrics HTTP listener (GET /metrics, GET /healthz) on the first
// loop. Built by Server::start once the loops exist; its tasks live on the loops, and
// Server::drain does not wait for them (tasks_on). Loop threads only, as documented per member.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ftpd/http_request.hpp"
#include "ftpd/server_context.hpp"
#include "muxio/task.hpp"
#include "muxio/tcp_listener.hpp"

namespace muxio::ftpd {

class Observer {
 public:
  Observer(ServerContext& ctx, std::vector<EventLoop*> loops);
  ~Observer();
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  // Arms the samplers and binds metrics_listen if set (refusing a non-loopback address unless
  // metrics_allow_remote). Before the loops run.
  std::error_code start(std::string* error);
  std::optional<SocketAddress> metrics_address() const { return metrics_address_; }
  // Tasks of the observer running on `loop`, which a drain does not wait for. Loop's thread.
  std::size_t tasks_on(const EventLoop& loop) const;
  // The loop stops for good: its sampler ends; on the first loop, the metrics listener closes.
  // Loop's thread.
  void stop_on(EventLoop& loop);

  // The response to one parsed request (pure but for the state it reports).
  std::string respond(HttpParse status, const HttpRequest& req);

 private:
  void sample(std::size_t index);
  std::string scrape();
  Task<void> accept_loop(TcpListener& listener);
  static Task<void> serve(Observer& self, std::shared_ptr<std::size_t> count, TcpStream stream);

  ServerContext& ctx_;
  std::vector<EventLoop*> loops_;
  struct Sampler {
    TimerId timer = 0;
    TimePoint due{};
    Duration waited{};
    bool stopped = false;
  };
  std::vector<Sampler> samplers_;
  std::unique_ptr<TcpListener> listener_;
  std::optional<SocketAddress> metrics_address_;
  TaskHandle acceptor_;
  // HTTP connections being served (first loop); shared with their tasks, which a loop destroyed
  // late may end after the observer.
  std::shared_ptr<std::size_t> connections_ = std::make_shared<std::size_t>(0);
  std::uint64_t last_status_sessions_ = ~0ull;
};

}  // namespace muxio::ftpd
