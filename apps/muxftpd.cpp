// muxftpd: the FTP server. `muxftpd --help` for the flags; `muxftpd passwd FILE NAME`,
// `muxftpd user ...` and `muxftpd db ...` administer accounts (muxftpd_admin.hpp).
// Configuration reference: docs/muxftpd.example.toml.
#include <sodium.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>

#include "ftpd/config.hpp"
#include "ftpd/json_log.hpp"
#include "ftpd/password.hpp"
#include "ftpd/reload.hpp"
#include "ftpd/server.hpp"
#include "ftpd/stale_uploads.hpp"
#include "ftpd/supervise.hpp"
#include "ftpd/user_schema.hpp"
#include "ftpd/user_store.hpp"
#include "muxftpd_admin.hpp"
#include "muxio/log.hpp"

namespace {

using namespace muxio;
using namespace muxio::ftpd;

// Uploads cut short by a crash (kill -9, power loss) leave hidden temporary files that nothing
// else removes. Users' homes are under the root unless absolute; an absolute home elsewhere is
// not swept.
void sweep_stale_uploads(const ServerContext& ctx) {
  std::vector<std::string> dirs(1, ctx.config.root);
  if (!ctx.config.anonymous_root.empty()) dirs.push_back(ctx.config.anonymous_root);
  for (const auto& dir : dirs) {
    auto sweep = remove_stale_uploads(dir, ctx.config.node_name);
    ctx.log->info("start-up: removed {} stale upload file(s){} under {}", sweep.removed,
                  ctx.config.node_name.empty() ? "" : " of node " + ctx.config.node_name, dir);
    if (sweep.failed > 0) {
      ctx.log->warn("start-up: could not remove {} stale upload file(s) under {}", sweep.failed,
                    dir);
    }
    if (sweep.incomplete) ctx.log->warn("start-up: {} only partly searched for stale uploads", dir);
  }
}

// The database store's schema must be the one this program reads. A database that does not
// answer now is no reason to refuse to start: logins get 421 until it does.
bool check_store_schema(UserStore& store, const ServerContext& ctx) {
  std::string error;
  auto version = store.schema_version(&error);
  if (!version) {
    ctx.log->warn("user store: {}; logins it should answer get 421 until it answers", error);
    return true;
  }
  if (*version == latest_user_schema_version()) return true;
  std::cerr << "muxftpd: the user store's schema is at version " << *version << ", this muxftpd "
            << "reads version " << latest_user_schema_version() << ": run `muxftpd db "
            << (*version == 0 ? "init" : "migrate") << " --store ...`\n";
  return false;
}

// Nodes that name themselves and share a PostgreSQL user store form a cluster: session limits,
// bans and quotas hold across all of them (cluster_ledger.hpp). Without a node name, each node
// keeps its own, as a single server does.
bool join_cluster(ServerContext& ctx) {
  const ServerConfig& cfg = ctx.config;
  auto conninfo = postgres_conninfo_of_spec(cfg.user_store);
  if (!conninfo) return true;
  if (cfg.node_name.empty()) {
    ctx.log->warn(
        "PostgreSQL user store without node_name: session limits, bans and quotas "
        "are this node's own; name each node to share them across a cluster");
    return true;
  }
  ClusterClient::Options options;
  options.conninfo = *conninfo;
  options.node = cfg.node_name;
  options.timeout = cfg.user_store_timeout;
  auto log = ctx.log;
  auto cluster =
      std::make_shared<ClusterClient>(options, [log](const std::string& m) { log->warn(m); });
  std::string error;
  if (cluster->join(&error)) {
    std::cerr << "muxftpd: joining the cluster as node " << cfg.node_name << ": " << error << "\n";
    return false;
  }
  ctx.log->info("node {} of a cluster: session limits, bans and quotas shared in PostgreSQL",
                cfg.node_name);
  ctx.cluster = std::move(cluster);
  return true;
}

bool open_database_store(ServerContext& ctx) {
  const ServerConfig& cfg = ctx.config;
  UserStoreOptions store_options;
  store_options.timeout = cfg.user_store_timeout;
  std::string error;
  auto probe = open_user_store(cfg.user_store, store_options, &error);
  if (!probe) {
    std::cerr << "muxftpd: " << error << "\n";
    return false;
  }
  if (!check_store_schema(*probe, ctx)) return false;
  UserStoreClient::Options options;
  options.connections = cfg.user_store_connections;
  options.cache_lifetime = cfg.user_cache_lifetime;
  options.timeout = cfg.user_store_timeout;
  const std::string spec = cfg.user_store;
  ctx.user_store = std::make_shared<UserStoreClient>(
      [spec, store_options] {
        std::string ignored;  // the spec opened once already: it is well-formed
        return open_user_store(spec, store_options, &ignored);
      },
      options);
  return join_cluster(ctx);
}

std::string random_password() {
  static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string s(16, 'x');
  for (char& c : s)
    c = alphabet[randombytes_uniform(sizeof alphabet - 1)];
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (!init_password_hashing()) {
    std::cerr << "muxftpd: libsodium failed to initialise\n";
    return 1;
  }
  // Flags land in `flags`; the config file fills `cfg`; each flag given then overrides it.
  ServerConfig flags;
  CLI::App app{"muxftpd: an FTP server on muxio — many users at once, one process"};
  std::string config_file;
  std::vector<std::string> user_flags;
  std::string passive_ports;
  std::string demo_user;
  std::string anonymous_perms;
  std::int64_t idle = 0;
  std::int64_t login = 0;
  std::int64_t ban = 0;
  std::int64_t data = 0;
  std::int64_t grace = 0;
  auto* o_config = app.add_option("--config", config_file, "TOML file (docs/muxftpd.example.toml)");
  auto* o_listen = app.add_option("--listen", flags.listen, "HOST:PORT, repeatable ([::1]:2121)");
  auto* o_root =
      app.add_option("--root", flags.root, "directory served (homes are relative to it)");
  auto* o_node = app.add_option(
      "--node-name", flags.node_name,
      "this node's name when several share the root: tags its upload temporaries, and the "
      "start-up sweep removes only its own");
  app.add_option("--user", user_flags, "NAME:PASSWORD[:PERMS] account in memory (repeatable)");
  auto* o_users = app.add_option("--users-file", flags.users_file, "NAME:HASH:PERMS:HOME lines");
  app.add_option("--demo-user", demo_user, "add NAME with a random password, printed at start");
  auto* o_anon = app.add_flag("--anonymous", flags.anonymous, "allow anonymous logins (read-only)");
  app.add_option("--anonymous-permissions", anonymous_perms, "letters of lrwdnm (default lr)");
  app.add_option("--passive-ports", passive_ports, "LOW-HIGH range for PASV/EPSV");
  auto* o_io = app.add_option("--io", flags.io, "IO backend: " + backend_names_joined());
  auto* o_threads = app.add_option("--threads", flags.threads, "event loops (0: one per core)");
  auto* o_idle = app.add_option("--idle-timeout", idle, "seconds a client may idle (300)");
  auto* o_data = app.add_option("--data-timeout", data, "seconds for data set-up and stalls (30)");
  auto* o_login = app.add_option("--login-timeout", login, "seconds from connect to login (60)");
  auto* o_grace =
      app.add_option("--shutdown-grace", grace, "seconds transfers may go on after SIGTERM (30)");
  AccessLimits& limits = flags.limits;
  auto* o_max = app.add_option("--max-sessions", limits.max_sessions, "in all (2000; 0: no limit)");
  auto* o_max_ip = app.add_option("--max-sessions-per-ip", limits.max_sessions_per_ip,
                                  "from one client address (50; 0: no limit)");
  auto* o_max_user = app.add_option("--max-sessions-per-user", limits.max_sessions_per_user,
                                    "of one account, anonymous aside (0: no limit)");
  auto* o_failures = app.add_option("--max-login-failures", limits.max_login_failures,
                                    "failed logins from one address that ban it (10; 0: never)");
  auto* o_ban = app.add_option("--ban-seconds", ban, "length of a ban (600)");
  std::string rates[4];  // download, upload, user download, user upload
  static const char* const kRateFlags[4] = {"--download-rate", "--upload-rate",
                                            "--user-download-rate", "--user-upload-rate"};
  static const char* const kRateHelp[4] = {
      "bytes/s per session, e.g. 500K or 10M (0: no limit)", "bytes/s per session",
      "bytes/s shared by all sessions of one user", "bytes/s shared by all sessions of one user"};
  for (int i = 0; i < 4; ++i)
    app.add_option(kRateFlags[i], rates[i], kRateHelp[i]);
  std::string quota_bytes;
  app.add_option("--quota-bytes", quota_bytes, "per user, e.g. 500M (0: no quota)");
  auto* o_quota_files =
      app.add_option("--quota-files", flags.quota.files, "files per user (0: no quota)");
  std::string tls_mode;
  auto* o_tls = app.add_option("--tls", tls_mode, "FTPS: off|optional|required (off)");
  auto* o_cert = app.add_option("--tls-cert", flags.tls_cert, "PEM certificate chain for FTPS");
  auto* o_key = app.add_option("--tls-key", flags.tls_key, "PEM private key for FTPS");
  auto* o_implicit = app.add_option("--implicit-tls-listen", flags.implicit_tls_listen,
                                    "HOST:PORT where TLS starts at connect (port 990 style)");
  bool no_reuse = false;
  auto* o_no_reuse = app.add_flag("--no-tls-reuse", no_reuse,
                                  "accept data connections that do not resume the TLS session");
  std::string reuse_scope;
  auto* o_reuse_scope = app.add_option(
      "--tls-reuse-scope", reuse_scope,
      "data connections resume the session of: connection (their own control connection's, "
      "default: curl, lftp, FileZilla, ftplib) | client (any control connection from the same "
      "address: clients sharing one session cache across connections, curl --parallel, rclone)");
  std::int64_t session_lifetime = 0;
  auto* o_lifetime = app.add_option("--tls-session-lifetime", session_lifetime,
                                    "seconds a TLS session may be resumed (86400)");
  bool lax_eof = false;
  auto* o_lax_eof = app.add_flag(
      "--tls-upload-without-close-notify", lax_eof,
      "commit TLS uploads ended by a bare TCP FIN (may be truncated; default: refused, 426)");
  auto* o_xfer = app.add_option("--xferlog", flags.xferlog, "transfer log file ('-': stderr)");
  auto* o_level = app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error");
  auto* o_log_format = app.add_option("--log-format", flags.log_format, "text (default) | json")
                           ->check(CLI::IsMember({"text", "json"}));
  auto* o_metrics = app.add_option("--metrics-listen", flags.metrics_listen,
                                   "HOST:PORT of the HTTP listener for /metrics and /healthz");
  auto* o_metrics_remote =
      app.add_flag("--metrics-allow-remote", flags.metrics_allow_remote,
                   "allow --metrics-listen on a non-loopback address (no authentication)");
  auto* o_store = app.add_option("--user-store", flags.user_store,
                                 "accounts in a database: sqlite:PATH | postgresql:CONNINFO");
  double cache_seconds = 0;
  auto* o_cache = app.add_option("--user-cache-seconds", cache_seconds,
                                 "how long a database store's answer is reused (5)");
  std::int64_t store_timeout = 0;
  auto* o_store_timeout = app.add_option("--user-store-timeout", store_timeout,
                                         "seconds a database round trip may take (5)");
  auto* o_store_connections =
      app.add_option("--user-store-connections", flags.user_store_connections,
                     "database connections, each with its lookup thread (4)");
  muxio::apps::AdminCommands admin(app);
  CLI11_PARSE(app, argc, argv);
  if (admin.parsed()) {
    ServerConfig from_file;
    std::string err;
    if (o_config->count() > 0 && load_config_file(config_file, from_file, &err)) {
      std::cerr << "muxftpd: " << err << "\n";
      return 2;
    }
    std::string configured = from_file.user_store;
    if (configured.empty() && !from_file.users_file.empty()) {
      configured = "file:" + from_file.users_file;
    }
    return admin.run(configured);
  }
  // Flags for keys that SIGHUP reloads: applied over the config file at start-up and again after
  // each reload, so that a flag keeps winning over the file.
  auto apply_reloadable_flags = [&](ServerConfig& c) {
    if (o_idle->count() > 0) c.idle_timeout = std::chrono::seconds(idle);
    if (o_data->count() > 0) c.data_timeout = std::chrono::seconds(data);
    if (o_login->count() > 0) c.login_timeout = std::chrono::seconds(login);
    if (o_grace->count() > 0) c.shutdown_grace = std::chrono::seconds(grace);
    if (o_level->count() > 0) c.log_level = flags.log_level;
  };

  ServerConfig cfg;
  std::string error;
  if (o_config->count() > 0 && load_config_file(config_file, cfg, &error)) {
    std::cerr << "muxftpd: " << error << "\n";
    return 2;
  }
  if (o_listen->count() > 0) cfg.listen = flags.listen;
  if (o_root->count() > 0) cfg.root = flags.root;
  if (o_node->count() > 0) {
    if (auto e = node_name_error(flags.node_name); !e.empty()) {
      std::cerr << "muxftpd: --node-name: " << e << "\n";
      return 2;
    }
    cfg.node_name = flags.node_name;
  }
  if (o_users->count() > 0) cfg.users_file = flags.users_file;
  if (o_store->count() > 0) cfg.user_store = flags.user_store;
  if (o_cache->count() > 0) {
    cfg.user_cache_lifetime =
        std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.0, cache_seconds) * 1000));
  }
  if (o_store_timeout->count() > 0) cfg.user_store_timeout = std::chrono::seconds(store_timeout);
  if (o_store_connections->count() > 0) {
    cfg.user_store_connections = std::max(1u, flags.user_store_connections);
  }
  if (is_users_file_spec(cfg.user_store)) {  // file:PATH is the users file, read into memory
    if (!cfg.users_file.empty()) {
      std::cerr << "muxftpd: give a users file or user_store = \"file:...\", not both\n";
      return 2;
    }
    cfg.users_file = users_file_of_spec(cfg.user_store);
    cfg.user_store.clear();
  }
  if (o_anon->count() > 0) cfg.anonymous = flags.anonymous;
  if (o_io->count() > 0) cfg.io = flags.io;
  if (o_threads->count() > 0) cfg.threads = flags.threads;
  apply_reloadable_flags(cfg);
  if (o_max->count() > 0) cfg.limits.max_sessions = limits.max_sessions;
  if (o_max_ip->count() > 0) cfg.limits.max_sessions_per_ip = limits.max_sessions_per_ip;
  if (o_max_user->count() > 0) cfg.limits.max_sessions_per_user = limits.max_sessions_per_user;
  if (o_failures->count() > 0) cfg.limits.max_login_failures = limits.max_login_failures;
  if (o_ban->count() > 0) cfg.limits.ban_seconds = std::chrono::seconds(ban);
  std::uint64_t* rate_fields[4] = {&cfg.bandwidth.session_download, &cfg.bandwidth.session_upload,
                                   &cfg.bandwidth.user_download, &cfg.bandwidth.user_upload};
  for (int i = 0; i < 4; ++i) {
    if (rates[i].empty()) continue;
    auto r = parse_bytes(rates[i]);
    if (!r) {
      std::cerr << "muxftpd: " << kRateFlags[i] << ": bytes per second, e.g. 800K or 10M\n";
      return 2;
    }
    *rate_fields[i] = *r;
  }
  if (!quota_bytes.empty()) {
    auto q = parse_bytes(quota_bytes);
    if (!q) {
      std::cerr << "muxftpd: --quota-bytes: a number of bytes, e.g. 500M\n";
      return 2;
    }
    cfg.quota.bytes = *q;
  }
  if (o_quota_files->count() > 0) cfg.quota.files = flags.quota.files;
  if (o_tls->count() > 0 && !parse_tls_mode(tls_mode, cfg.tls)) {
    std::cerr << "muxftpd: --tls must be off, optional or required\n";
    return 2;
  }
  if (o_cert->count() > 0) cfg.tls_cert = flags.tls_cert;
  if (o_key->count() > 0) cfg.tls_key = flags.tls_key;
  if (o_implicit->count() > 0) cfg.implicit_tls_listen = flags.implicit_tls_listen;
  if (o_no_reuse->count() > 0) cfg.tls_require_reuse = false;
  if (o_lifetime->count() > 0) cfg.tls_session_lifetime = std::chrono::seconds(session_lifetime);
  if (o_lax_eof->count() > 0) cfg.tls_upload_needs_close_notify = false;
  if (o_reuse_scope->count() > 0 && !parse_tls_reuse_scope(reuse_scope, cfg.tls_reuse_scope)) {
    std::cerr << "muxftpd: --tls-reuse-scope must be connection or client\n";
    return 2;
  }
  if (!cfg.implicit_tls_listen.empty() && cfg.tls == ServerConfig::TlsMode::off) {
    cfg.tls = ServerConfig::TlsMode::optional;  // an implicit-TLS listener implies TLS
  }
  if (o_xfer->count() > 0) cfg.xferlog = flags.xferlog;
  if (o_log_format->count() > 0) cfg.log_format = flags.log_format;
  if (o_metrics->count() > 0) cfg.metrics_listen = flags.metrics_listen;
  if (o_metrics_remote->count() > 0) cfg.metrics_allow_remote = flags.metrics_allow_remote;
  if (!cfg.metrics_listen.empty() && !SocketAddress::parse(cfg.metrics_listen)) {
    std::cerr << "muxftpd: metrics_listen: '" << cfg.metrics_listen
              << "' is not HOST:PORT with a numeric address\n";
    return 2;
  }
  if (!anonymous_perms.empty()) {
    auto p = parse_permissions(anonymous_perms);
    if (!p) {
      std::cerr << "muxftpd: --anonymous-permissions: unknown letters\n";
      return 2;
    }
    cfg.anonymous_permissions = *p;
  }
  if (!passive_ports.empty() &&
      !parse_port_range(passive_ports, cfg.passive_low, cfg.passive_high)) {
    std::cerr << "muxftpd: --passive-ports must be LOW-HIGH\n";
    return 2;
  }
  std::vector<std::string> all_listeners = cfg.listen;
  all_listeners.insert(all_listeners.end(), cfg.implicit_tls_listen.begin(),
                       cfg.implicit_tls_listen.end());
  if (!validate_network(cfg.network, all_listeners, cfg.passive_low, cfg.passive_high, &error) ||
      !resolve_passive_addresses(cfg.network, &error)) {
    std::cerr << "muxftpd: " << error << "\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  ServerContext ctx;
  ctx.config = cfg;
  ctx.access.set_limits(cfg.limits);
  ctx.log = spdlog::stderr_color_mt("muxftpd");
  ctx.log->set_level(spdlog::level::from_str(cfg.log_level));
  if (cfg.log_format == "json") use_json_log_format(*ctx.log);
  // What muxio cannot hand back to a caller (a failed wait, a task's lost exception) goes to the
  // same log as the server's own messages.
  muxio::set_log_hook([log = ctx.log](muxio::LogLevel level, std::string_view message) {
    log->log(level == muxio::LogLevel::error ? spdlog::level::err : spdlog::level::warn, "{}",
             message);
  });
  for (const auto& f : user_flags) {
    auto u = UserDb::parse_user_flag(f);
    if (!u) {
      std::cerr << "muxftpd: --user " << f << ": expected NAME:PASSWORD[:PERMS]\n";
      return 2;
    }
    ctx.config.users.push_back(std::move(*u));
  }
  std::string demo_password;
  if (!demo_user.empty()) {
    demo_password = random_password();
    ctx.config.users.push_back(*UserDb::parse_user_flag(demo_user + ":" + demo_password));
  }
  // The users file and the accounts above, as a SIGHUP builds them again (reload.cpp).
  auto users = UserDb::load(cfg.users_file, ctx.config.users, &error);
  if (!users) {
    std::cerr << "muxftpd: " << error << "\n";
    return 2;
  }
  if (users->size() == 0 && !cfg.anonymous && cfg.user_store.empty()) {
    std::cerr << "muxftpd: nobody can log in: give --user, --users-file, --user-store, "
                 "--demo-user or --anonymous\n";
    return 2;
  }
  ctx.set_users(std::move(*users));
  if (!cfg.user_store.empty() && !open_database_store(ctx)) return 2;
  std::error_code ec;
  if (!std::filesystem::is_directory(cfg.root, ec)) {
    std::cerr << "muxftpd: --root " << cfg.root << " is not a directory\n";
    return 2;
  }
  if (cfg.tls != ServerConfig::TlsMode::off) {
    if (cfg.tls_cert.empty() || cfg.tls_key.empty()) {
      std::cerr << "muxftpd: TLS needs --tls-cert and --tls-key (or tls_cert/tls_key)\n";
      return 2;
    }
    auto tls = TlsContext::server(cfg.tls_cert, cfg.tls_key, &error);
    if (!tls) {
      std::cerr << "muxftpd: " << error << "\n";
      return 2;
    }
    tls->set_session_lifetime(cfg.tls_session_lifetime);
    ctx.tls = std::move(*tls);
  }
  if (!ctx.xferlog.open(cfg.xferlog)) {
    std::cerr << "muxftpd: cannot open transfer log " << cfg.xferlog << "\n";
    return 2;
  }
  ctx.set_settings(ctx.config);  // what sessions read; a SIGHUP replaces it (reload.cpp)
  sweep_stale_uploads(ctx);
  Server server(ctx);
  // SIGHUP: the users file again, and the reloadable keys of the config file if there is one.
  SettingsLoader load_settings;
  if (o_config->count() > 0) {
    load_settings = [&](ServerConfig& c, std::string* err) -> std::error_code {
      if (auto e = load_config_file(config_file, c, err)) return e;
      apply_reloadable_flags(c);
      return {};
    };
  }
  server.on_hangup([&] { reload(ctx, load_settings); });
  // Started by systemd's socket activation: its sockets instead of the configured addresses.
  auto inherited = take_listen_fds(&error);
  if (!error.empty()) {
    std::cerr << "muxftpd: " << error << "\n";
    return 2;
  }
  server.adopt_listeners(std::move(inherited));
  if (server.start(&error)) {
    std::cerr << "muxftpd: " << error << "\n";
    return 1;
  }
  std::string where;
  for (const auto& a : server.addresses())
    where += (where.empty() ? "" : " ") + a.to_string();
  // Tests read this line (and the port in it) from standard output.
  std::cout << "muxftpd: listening on " << where << " (" << server.backend_name() << ", "
            << server.loop_count() << " loop(s)), root " << cfg.root << std::endl;
  for (const auto& a : server.implicit_tls_addresses())
    std::cout << "muxftpd: implicit TLS on " << a.to_string() << std::endl;
  if (ctx.tls) {
    std::cout << "muxftpd: FTPS "
              << (cfg.tls == ServerConfig::TlsMode::required ? "required" : "optional")
              << ", certificate SHA-256 " << ctx.tls->certificate_fingerprint() << std::endl;
  }
  if (auto m = server.metrics_address()) {
    std::cout << "muxftpd: metrics on http://" << m->to_string() << "/metrics" << std::endl;
  }
  if (!demo_password.empty()) {
    std::cout << "muxftpd: user " << demo_user << " password " << demo_password << std::endl;
  }
  sd_notify("READY=1\nSTATUS=Serving, 0 session(s)\nMAINPID=" + std::to_string(::getpid()));
  server.run();
  ctx.log->info("stopped");
  return 0;
}
