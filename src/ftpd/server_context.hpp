// ServerContext: what every session of a server shares — configuration, users and logs.
// Read-only while sessions run; the counters are atomics because loops run on several threads.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <memory>

#include "ftpd/config.hpp"
#include "ftpd/user_db.hpp"
#include "ftpd/xfer_log.hpp"

namespace muxio::ftpd {

struct ServerContext {
  ServerConfig config;
  UserDb users;
  std::shared_ptr<spdlog::logger> log;
  XferLog xferlog;
  std::atomic<std::uint64_t> next_session_id{1};
  std::atomic<std::uint64_t> sessions_open{0};
};

}  // namespace muxio::ftpd
