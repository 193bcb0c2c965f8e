#include "ftpd/reload.hpp"

#include "muxio/thread_pool.hpp"

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
  // A database store's answers kept for the cache lifetime: the next logins ask it again, so a
  // password changed there takes effect at the reload the operator asked for.
  if (ctx.user_store) ctx.user_store->forget_cached();
}

// The settings just read become the new sessions' settings once their names are resolved.
void apply_settings(ServerContext& ctx, const ServerConfig& fresh) {
  ServerConfig next = *ctx.settings();
  apply_reloadable(fresh, next);
  ctx.log->set_level(spdlog::level::from_str(next.log_level));
  ctx.set_settings(std::move(next));
  ctx.log->info("reload: settings for new sessions");
}

// passive_address may be a name: resolved on the offload pool, not on the loop.
Task<void> resolve_then_apply(ServerContext& ctx, ServerConfig fresh) {
  std::string error;
  const bool resolved = co_await offload(
      [&fresh, &error] { return resolve_passive_addresses(fresh.network, &error); });
  if (!resolved) {
    ctx.log->error("reload: {}; keeping the passive addresses resolved before", error);
    fresh.network = ctx.settings()->network;
  }
  apply_settings(ctx, fresh);
}

void reload_settings(ServerContext& ctx, const SettingsLoader& load_settings) {
  ServerConfig fresh;  // a key removed from the file goes back to its default
  std::string error;
  if (load_settings(fresh, &error)) {
    ctx.log->error("reload: {}; keeping the settings loaded before", error);
    return;
  }
  std::vector<std::string> listeners = ctx.config.listen;
  listeners.insert(listeners.end(), ctx.config.implicit_tls_listen.begin(),
                   ctx.config.implicit_tls_listen.end());
  if (!validate_network(fresh.network, listeners, ctx.config.passive_low, ctx.config.passive_high,
                        &error)) {
    ctx.log->error("reload: {}; keeping the settings loaded before", error);
    return;
  }
  if (EventLoop* loop = EventLoop::current()) {
    loop->spawn(resolve_then_apply(ctx, std::move(fresh)));
  } else {
    if (!resolve_passive_addresses(fresh.network, &error)) {
      ctx.log->error("reload: {}; keeping the passive addresses resolved before", error);
      fresh.network = ctx.settings()->network;
    }
    apply_settings(ctx, fresh);
  }
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
