#include "ftpc/tls_options.hpp"

#include <mutex>
#include <optional>

namespace muxio::ftpc {

namespace {

// Loading the system's trust store takes milliseconds: once per process, not per session.
Result<TlsContext> shared_context(const TlsSettings& settings, std::string* error) {
  static std::mutex mutex;
  static std::optional<TlsContext> cached;
  static bool cached_verify = true;
  static std::string cached_ca;
  std::lock_guard lock(mutex);
  if (cached && cached_verify == settings.verify && cached_ca == settings.ca_file) return *cached;
  auto ctx = TlsContext::client(settings.verify, settings.ca_file, error);
  if (!ctx) return ctx.error();
  cached = *ctx;
  cached_verify = settings.verify;
  cached_ca = settings.ca_file;
  return *ctx;
}

}  // namespace

std::error_code apply_tls(Options& o, const Url& url, const TlsSettings& settings,
                          std::string* error) {
  switch (url.security) {
    case Url::Security::implicit_tls:
      o.tls = Options::Tls::implicit;
      break;
    case Url::Security::explicit_tls:
      o.tls = Options::Tls::explicit_auth;
      break;
    case Url::Security::plain:
      o.tls = settings.require ? Options::Tls::explicit_auth : Options::Tls::off;
      break;
  }
  if (o.tls == Options::Tls::off) return {};
  auto ctx = shared_context(settings, error);
  if (!ctx) return ctx.error();
  o.tls_context = *ctx;
  o.tls_host = url.host;
  return {};
}

}  // namespace muxio::ftpc
