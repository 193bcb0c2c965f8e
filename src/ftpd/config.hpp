// ServerConfig: every setting of muxftpd, with its default. Set from a TOML file
// (docs/muxftpd.example.toml documents each key) and overridden by command-line flags.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ftpd/access_guard.hpp"
#include "ftpd/bandwidth.hpp"
#include "ftpd/network_config.hpp"
#include "ftpd/quota.hpp"
#include "ftpd/user_db.hpp"
#include "muxio/result.hpp"

namespace muxio::ftpd {

struct ServerConfig {
  std::vector<std::string> listen = {"127.0.0.1:2121"};
  std::string root = "./ftp-root";
  std::string users_file;   // NAME:HASH:PERMISSIONS:HOME lines
  std::vector<User> users;  // --user quick-start accounts
  // Accounts in a database: "sqlite:PATH" or "postgresql:CONNINFO" (user_store.hpp); "file:PATH"
  // is users_file. Asked at logins that users_file and --user do not answer.
  std::string user_store;
  std::chrono::milliseconds user_cache_lifetime{5000};  // how long an answer is reused
  std::chrono::seconds user_store_timeout{5};           // bounds each round trip to the store
  unsigned user_store_connections = 4;                  // and as many lookup threads

  bool anonymous = false;      // "anonymous" and "ftp" log in with any password
  std::string anonymous_root;  // default: root
  Permissions anonymous_permissions = kReadOnly;

  std::uint16_t passive_low = 0;  // 0: any port the kernel picks
  std::uint16_t passive_high = 0;
  // Passive addressing behind NAT/balancers and the PROXY protocol (network_config.hpp).
  NetworkSettings network;

  std::string io = "best";
  unsigned threads = 0;  // 0: one loop per core

  std::chrono::seconds idle_timeout{300};
  std::chrono::seconds login_timeout{60};  // from connect to a successful login, however busy
  std::chrono::seconds data_timeout{30};   // data connection set-up, and a stalled transfer

  // Sessions in total, per address, per user; failed-login delays and bans.
  AccessLimits limits;

  BandwidthLimits bandwidth;  // bytes per second per session and per user; 0: unlimited
  QuotaLimits quota;          // per user, over their home directory; 0: unlimited
  std::size_t max_command_line = 4096;
  bool fsync_uploads = true;  // an upload is on disk before it replaces the old file
  // Several nodes serving one shared root (a cluster): each names itself, so that its upload
  // temporaries carry its name and its start-up sweep removes only its own, never an upload
  // another node is writing. Empty (one node): every stale temporary is this server's.
  std::string node_name;
  // SIGTERM/SIGINT: how long running transfers may go on (new connections are refused and idle
  // sessions closed at once); a second signal stops at once.
  std::chrono::seconds shutdown_grace{30};

  // FTPS (RFC 4217). "required": logins other than anonymous need AUTH TLS first, and data
  // connections need PROT P.
  enum class TlsMode { off, optional, required };
  TlsMode tls = TlsMode::off;
  std::string tls_cert;  // PEM certificate chain
  std::string tls_key;   // PEM private key
  // Data connections must resume the control connection's TLS session (vsftpd's
  // require_ssl_reuse): proof that the data connection's peer is the logged-in client.
  bool tls_require_reuse = true;
  // Whose session a data connection may resume: its own control connection's (connection), or
  // any control connection's from the same client address (client) — what clients that share
  // one TLS session cache across parallel transfers need (curl --parallel). vsftpd accepts any
  // session of the server; both scopes are narrower.
  enum class TlsReuseScope { connection, client };
  TlsReuseScope tls_reuse_scope = TlsReuseScope::connection;
  std::vector<std::string> implicit_tls_listen;  // listeners where TLS starts at connect
  // How long a TLS session may be resumed after it was issued (OpenSSL's default: 2 hours).
  // Each FTPS transfer brings the client a fresh TLS 1.3 session, so this bounds the gap
  // between transfers' tickets and their use, not a control connection's age (TLS 1.2
  // sessions are not renewed: there it bounds the age).
  std::chrono::seconds tls_session_lifetime{86400};
  // A TLS upload must end with close_notify; one ended by a bare TCP FIN (possibly cut short)
  // is refused with 426 and nothing is replaced (vsftpd's strict_ssl_read_eof).
  bool tls_upload_needs_close_notify = true;

  std::string banner = "muxftpd ready";
  std::string xferlog;  // transfer log path; "-" for stderr; empty: off
  std::string log_level = "info";
  // Log lines: "text" (default) or "json" (one object a line for connect, login, transfer,
  // error, disconnect).
  std::string log_format = "text";

  // Prometheus metrics and health over HTTP (GET /metrics, GET /healthz); empty: off. A
  // non-loopback address needs metrics_allow_remote (the endpoint has no authentication).
  std::string metrics_listen;
  bool metrics_allow_remote = false;
};

// Reads a TOML config file into cfg (keys absent from the file keep their values).
std::error_code load_config_file(const std::string& path, ServerConfig& cfg, std::string* error);

// SIGHUP: copies the keys that may change while the server runs (banner, timeouts, shutdown
// grace, command-line limit, fsync_uploads, log level, passive addressing) from `from` into `to`.
// Sessions started before keep the values they started with.
void apply_reloadable(const ServerConfig& from, ServerConfig& to);

// A node name: 1 to 32 letters, digits, '-' or '_' (it becomes part of file names). The error
// text, or "" when it is valid.
std::string node_name_error(std::string_view name);

// "off", "optional", "required".
bool parse_tls_mode(std::string_view s, ServerConfig::TlsMode& mode);
bool parse_tls_reuse_scope(std::string_view s, ServerConfig::TlsReuseScope& scope);

// "LOW-HIGH" for passive ports.
bool parse_port_range(std::string_view s, std::uint16_t& low, std::uint16_t& high);

}  // namespace muxio::ftpd
