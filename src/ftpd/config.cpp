#include "ftpd/config.hpp"

#include "ftpd/network_toml.hpp"

#include <toml++/toml.h>
#include <charconv>

#include "muxio/socket_address.hpp"

namespace muxio::ftpd {
namespace {

template <class T>
void read(const toml::table& t, std::string_view key, T& out) {
  if (auto v = t[key].value<T>()) out = *v;
}

// Bytes (or bytes per second): a number, or a string with a unit ("10M").
bool read_bytes(const toml::table& t, std::string_view key, std::uint64_t& out) {
  if (auto v = t[key].value<std::int64_t>()) {
    if (*v < 0) return false;
    out = static_cast<std::uint64_t>(*v);
  } else if (auto s = t[key].value<std::string>()) {
    auto r = parse_bytes(*s);
    if (!r) return false;
    out = *r;
  }
  return true;
}

void read_seconds(const toml::table& t, std::string_view key, std::chrono::seconds& out) {
  if (auto v = t[key].value<std::int64_t>()) out = std::chrono::seconds(*v);
}

// The observability keys, each checked for its type and value.
std::error_code read_observe_keys(const toml::table& t, const std::string& path, ServerConfig& cfg,
                                  std::string* error) {
  auto wrong = [&](const char* key, const char* what) {
    *error = path + ": " + key + " must be " + what;
    return errno_code(EINVAL);
  };
  if (auto* n = t.get("metrics_listen")) {
    auto v = n->value<std::string>();
    if (!v) return wrong("metrics_listen", "a string \"HOST:PORT\", e.g. \"127.0.0.1:9121\"");
    if (!v->empty() && !SocketAddress::parse(*v)) {
      return wrong("metrics_listen", "HOST:PORT with a numeric address, e.g. \"127.0.0.1:9121\"");
    }
    cfg.metrics_listen = *v;
  }
  if (auto* n = t.get("metrics_allow_remote")) {
    auto v = n->value<bool>();
    if (!v) return wrong("metrics_allow_remote", "true or false");
    cfg.metrics_allow_remote = *v;
  }
  if (auto* n = t.get("log_format")) {
    auto v = n->value<std::string>();
    if (!v || (*v != "text" && *v != "json")) return wrong("log_format", "\"text\" or \"json\"");
    cfg.log_format = *v;
  }
  return {};
}

}  // namespace

bool parse_port_range(std::string_view s, std::uint16_t& low, std::uint16_t& high) {
  auto dash = s.find('-');
  if (dash == std::string_view::npos) return false;
  unsigned a = 0;
  unsigned b = 0;
  auto l = s.substr(0, dash);
  auto h = s.substr(dash + 1);
  auto [pa, ea] = std::from_chars(l.data(), l.data() + l.size(), a);
  auto [pb, eb] = std::from_chars(h.data(), h.data() + h.size(), b);
  if (ea != std::errc() || eb != std::errc() || pa != l.data() + l.size() ||
      pb != h.data() + h.size() || a == 0 || b > 65535 || a > b) {
    return false;
  }
  low = static_cast<std::uint16_t>(a);
  high = static_cast<std::uint16_t>(b);
  return true;
}

bool parse_tls_reuse_scope(std::string_view s, ServerConfig::TlsReuseScope& scope) {
  if (s == "connection") {
    scope = ServerConfig::TlsReuseScope::connection;
  } else if (s == "client") {
    scope = ServerConfig::TlsReuseScope::client;
  } else {
    return false;
  }
  return true;
}

bool parse_tls_mode(std::string_view s, ServerConfig::TlsMode& mode) {
  if (s == "off") {
    mode = ServerConfig::TlsMode::off;
  } else if (s == "optional") {
    mode = ServerConfig::TlsMode::optional;
  } else if (s == "required") {
    mode = ServerConfig::TlsMode::required;
  } else {
    return false;
  }
  return true;
}

void apply_reloadable(const ServerConfig& from, ServerConfig& to) {
  to.banner = from.banner;
  to.idle_timeout = from.idle_timeout;
  to.login_timeout = from.login_timeout;
  to.data_timeout = from.data_timeout;
  to.shutdown_grace = from.shutdown_grace;
  to.max_command_line = from.max_command_line;
  to.fsync_uploads = from.fsync_uploads;
  to.log_level = from.log_level;
  // Passive addressing (not the PROXY protocol keys, which belong to the listeners).
  to.network.passive_address = from.network.passive_address;
  to.network.passive_ip = from.network.passive_ip;
  to.network.passive_overrides = from.network.passive_overrides;
  to.network.passive_port_offset = from.network.passive_port_offset;
  to.network.passive_trusted_networks = from.network.passive_trusted_networks;
}

std::string node_name_error(std::string_view name) {
  if (name.empty() || name.size() > 32) return "1 to 32 characters";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return "only letters, digits, '-' and '_'";
  }
  return {};
}

std::error_code load_config_file(const std::string& path, ServerConfig& cfg, std::string* error) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    *error = path + ": " + std::string(e.description());
    return errno_code(EINVAL);
  }
  if (auto* arr = t["listen"].as_array()) {
    cfg.listen.clear();
    for (auto& v : *arr) {
      if (auto s = v.value<std::string>()) cfg.listen.push_back(*s);
    }
  } else if (auto s = t["listen"].value<std::string>()) {
    cfg.listen = {*s};
  }
  read(t, "root", cfg.root);
  read(t, "users_file", cfg.users_file);
  read(t, "user_store", cfg.user_store);
  if (auto v = t["user_cache_seconds"].value<double>(); v && *v >= 0) {
    cfg.user_cache_lifetime = std::chrono::milliseconds(static_cast<std::int64_t>(*v * 1000));
  }
  read_seconds(t, "user_store_timeout", cfg.user_store_timeout);
  if (auto v = t["user_store_connections"].value<std::int64_t>(); v && *v > 0) {
    cfg.user_store_connections = static_cast<unsigned>(*v);
  }
  read(t, "anonymous", cfg.anonymous);
  read(t, "anonymous_root", cfg.anonymous_root);
  if (auto s = t["anonymous_permissions"].value<std::string>()) {
    auto p = parse_permissions(*s);
    if (!p) {
      *error = path + ": anonymous_permissions: unknown letters in '" + *s + "'";
      return errno_code(EINVAL);
    }
    cfg.anonymous_permissions = *p;
  }
  auto passive_ports = t["passive_ports"].value<std::string>();
  if (passive_ports && !passive_ports->empty()) {  // "": the kernel picks, as documented
    const std::string* s = &*passive_ports;
    if (!parse_port_range(*s, cfg.passive_low, cfg.passive_high)) {
      *error = path + ": passive_ports must be LOW-HIGH, e.g. \"50000-50100\"";
      return errno_code(EINVAL);
    }
  }
  if (!read_network_keys(t, cfg.network, error)) {
    *error = path + ": " + *error;
    return errno_code(EINVAL);
  }
  read(t, "io", cfg.io);
  if (auto v = t["threads"].value<std::int64_t>()) cfg.threads = static_cast<unsigned>(*v);
  read_seconds(t, "idle_timeout", cfg.idle_timeout);
  read_seconds(t, "login_timeout", cfg.login_timeout);
  read_seconds(t, "data_timeout", cfg.data_timeout);
  read_seconds(t, "shutdown_grace", cfg.shutdown_grace);
  // Limits: a negative number is out of range for these and leaves the default.
  read(t, "max_sessions", cfg.limits.max_sessions);
  read(t, "max_sessions_per_ip", cfg.limits.max_sessions_per_ip);
  read(t, "max_sessions_per_user", cfg.limits.max_sessions_per_user);
  read(t, "max_login_failures", cfg.limits.max_login_failures);
  read_seconds(t, "ban_seconds", cfg.limits.ban_seconds);
  for (auto [key, field] : {std::pair{"download_rate", &cfg.bandwidth.session_download},
                            std::pair{"upload_rate", &cfg.bandwidth.session_upload},
                            std::pair{"user_download_rate", &cfg.bandwidth.user_download},
                            std::pair{"user_upload_rate", &cfg.bandwidth.user_upload},
                            std::pair{"quota_bytes", &cfg.quota.bytes}}) {
    if (!read_bytes(t, key, *field)) {
      *error = path + ": " + key + " must be a number of bytes, or a number with K, M or G";
      return errno_code(EINVAL);
    }
  }
  read(t, "quota_files", cfg.quota.files);
  if (auto v = t["tls"].value<std::string>(); v && !parse_tls_mode(*v, cfg.tls)) {
    *error = path + ": tls must be \"off\", \"optional\" or \"required\"";
    return errno_code(EINVAL);
  }
  read(t, "tls_cert", cfg.tls_cert);
  read(t, "tls_key", cfg.tls_key);
  read(t, "tls_require_reuse", cfg.tls_require_reuse);
  if (auto v = t["tls_reuse_scope"].value<std::string>();
      v && !parse_tls_reuse_scope(*v, cfg.tls_reuse_scope)) {
    *error = path + ": tls_reuse_scope must be \"connection\" or \"client\"";
    return errno_code(EINVAL);
  }
  read_seconds(t, "tls_session_lifetime", cfg.tls_session_lifetime);
  read(t, "tls_upload_needs_close_notify", cfg.tls_upload_needs_close_notify);
  if (auto* a = t["implicit_tls_listen"].as_array()) {
    cfg.implicit_tls_listen.clear();
    for (auto& e : *a) {
      if (auto v = e.value<std::string>()) cfg.implicit_tls_listen.push_back(*v);
    }
  }
  if (auto v = t["max_command_line"].value<std::int64_t>()) {
    cfg.max_command_line = static_cast<std::size_t>(*v);
  }
  read(t, "fsync_uploads", cfg.fsync_uploads);
  read(t, "node_name", cfg.node_name);
  if (auto e = node_name_error(cfg.node_name); !cfg.node_name.empty() && !e.empty()) {
    *error = path + ": node_name: " + e;
    return errno_code(EINVAL);
  }
  read(t, "banner", cfg.banner);
  read(t, "xferlog", cfg.xferlog);
  read(t, "log_level", cfg.log_level);
  if (auto e = read_observe_keys(t, path, cfg, error)) return e;
  return {};
}

}  // namespace muxio::ftpd
