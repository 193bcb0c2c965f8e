// ServerConfig: every setting of muxftpd, with its default. Set from a TOML file
// (docs/muxftpd.example.toml documents each key) and overridden by command-line flags.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ftpd/user_db.hpp"
#include "muxio/result.hpp"

namespace muxio::ftpd {

struct ServerConfig {
  std::vector<std::string> listen = {"127.0.0.1:2121"};
  std::string root = "./ftp-root";
  std::string users_file;   // NAME:HASH:PERMISSIONS:HOME lines
  std::vector<User> users;  // --user quick-start accounts

  bool anonymous = false;      // "anonymous" and "ftp" log in with any password
  std::string anonymous_root;  // default: root
  Permissions anonymous_permissions = kReadOnly;

  std::uint16_t passive_low = 0;  // 0: any port the kernel picks
  std::uint16_t passive_high = 0;

  std::string io = "best";
  unsigned threads = 0;  // 0: one loop per core

  std::chrono::seconds idle_timeout{300};
  std::chrono::seconds login_timeout{60};
  std::chrono::seconds data_timeout{30};  // data connection set-up, and a stalled transfer
  std::size_t max_command_line = 4096;
  bool fsync_uploads = true;  // an upload is on disk before it replaces the old file

  std::string banner = "muxftpd ready";
  std::string xferlog;  // transfer log path; "-" for stderr; empty: off
  std::string log_level = "info";
};

// Reads a TOML config file into cfg (keys absent from the file keep their values).
std::error_code load_config_file(const std::string& path, ServerConfig& cfg, std::string* error);

// "LOW-HIGH" for passive ports.
bool parse_port_range(std::string_view s, std::uint16_t& low, std::uint16_t& high);

}  // namespace muxio::ftpd
