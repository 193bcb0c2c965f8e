// ServerContext: what every session of a server shares — configuration, users, logs and the
// access guard. Read-only while sessions run; the counters are atomics and the guard locks,
// because loops run on several threads. SIGHUP swaps the users and the reloadable settings as a
// whole (Snapshot): a session holds on to the snapshot it took.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "ftpd/access_guard.hpp"
#include "ftpd/cluster_client.hpp"
#include "ftpd/config.hpp"
#include "ftpd/metrics.hpp"
#include "ftpd/snapshot.hpp"
#include "ftpd/user_db.hpp"
#include "ftpd/user_store_client.hpp"
#include "ftpd/xfer_log.hpp"
#include "muxio/event_loop.hpp"
#include "muxio/tls_context.hpp"

namespace muxio::ftpd {

class Session;

struct ServerContext {
  ServerConfig config;  // as started; the keys SIGHUP reloads are read from settings()
  std::shared_ptr<spdlog::logger> log;
  XferLog xferlog;
  std::optional<TlsContext> tls;  // FTPS: set when config.tls is not off (as started)
  UserBandwidth bandwidth;        // per-user rate buckets
  QuotaRegistry quotas;           // per-user usage, for quotas
  // Session limits and login-failure bans, limits set from config.limits.
  AccessGuard access;
  std::atomic<std::uint64_t> next_session_id{1};
  std::atomic<std::uint64_t> sessions_open{0};
  Metrics metrics;  // Prometheus counters (metrics.hpp), updated from every loop
  // A database user store (SQLite, PostgreSQL), asked at logins the users in memory (the users
  // file, --user) do not answer; null without one.
  std::shared_ptr<UserStoreClient> user_store;
  // A node of a cluster (a PostgreSQL user store and a node_name): session limits, bans and
  // quotas shared with the other nodes; null otherwise.
  std::shared_ptr<ClusterClient> cluster;

  // Set by the first SIGTERM/SIGINT: no new connections, sessions end once idle.
  std::atomic<bool> shutting_down{false};
  // The sessions of each loop, so that a graceful shutdown can reach the idle ones. One entry per
  // loop, made by Server::start before the loops run; each set is used only by its own loop.
  std::unordered_map<const EventLoop*, std::unordered_set<Session*>> sessions;

  std::shared_ptr<const UserDb> users() const { return users_.load(); }
  void set_users(UserDb db) { users_.store(std::make_shared<const UserDb>(std::move(db))); }
  // The configuration new sessions start with: `config` with the reloadable keys as last loaded.
  std::shared_ptr<const ServerConfig> settings() const { return settings_.load(); }
  void set_settings(ServerConfig s) {
    settings_.store(std::make_shared<const ServerConfig>(std::move(s)));
  }
  // The certificate new sessions present: `tls` until a SIGHUP loads a renewed one. A session
  // keeps the context it took at connect, so its data connections resume its TLS session.
  std::shared_ptr<const TlsContext> tls_context() const {
    auto current = tls_context_.load();
    if (current || !tls) return current;
    return std::make_shared<const TlsContext>(*tls);
  }
  void set_tls_context(TlsContext c) {
    tls_context_.store(std::make_shared<const TlsContext>(std::move(c)));
  }

 private:
  Snapshot<UserDb> users_{std::make_shared<const UserDb>()};
  Snapshot<ServerConfig> settings_{std::make_shared<const ServerConfig>()};
  Snapshot<TlsContext> tls_context_{nullptr};
};

}  // namespace muxio::ftpd
