#include "ftpd/reload.hpp"

namespace muxio::ftpd {

namespace {

void reload_users(ServerContext& ctx) {
  std::string error;
  auto users = UserDb::load(ctx.config.users_file, ctx.config.users, &error);
  if (!users) {
    ctx.log->error("reload: {}; keeping the users loaded before", error);
    return;
  }
  ctx.log->info("reload: {} user(s)", users->size());
  ctx.set_users(std::move(*users));
}

void reload_settings(ServerContext& ctx, const SettingsLoader& load_settings) {
  ServerConfig fresh;  // a key removed from the file goes back to its default
  std::string error;
  if (load_settings(fresh, &error)) {
    ctx.log->error("reload: {}; keeping the settings loaded before", error);
    return;
  }
  ServerConfig next = *ctx.settings();
  apply_reloadable(fresh, next);
  ctx.log->set_level(spdlog::level::from_str(next.log_level));
  ctx.set_settings(std::move(next));
  ctx.log->info("reload: settings for new sessions");
}

// A renewed certificate (certbot, an ACME client) takes effect without a restart: new sessions
// get it, running ones keep theirs. A bad pair keeps the one loaded before.
void reload_certificate(ServerContext& ctx) {
  if (!ctx.tls) return;
  std::string error;
  auto fresh = TlsContext::server(ctx.config.tls_cert, ctx.config.tls_key, &error);
  if (!fresh) {
    ctx.log->error("reload: TLS certificate: {}; keeping the certificate loaded before", error);
    return;
  }
  fresh->set_session_lifetime(ctx.config.tls_session_lifetime);
  ctx.log->info("reload: TLS certificate SHA-256 {}", fresh->certificate_fingerprint());
  ctx.set_tls_context(std::move(*fresh));
}

}  // namespace

void reload(ServerContext& ctx, const SettingsLoader& load_settings) {
  reload_users(ctx);
  reload_certificate(ctx);
  if (load_settings) reload_settings(ctx, load_settings);
}

}  // namespace muxio::ftpd
