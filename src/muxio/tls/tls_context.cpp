#include "muxio/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace muxio {

namespace {

// TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3's own suites are configured
// separately by OpenSSL and are all acceptable).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::shared_ptr<ssl_ctx_st> new_context(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (ctx == nullptr) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(ctx, kTls12Ciphers);
  // Partial writes let one SSL_write fill the buffer as far as it goes; the memory BIO never
  // refuses, so in practice a write completes at once.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
  return std::shared_ptr<ssl_ctx_st>(ctx, SSL_CTX_free);
}

}  // namespace

std::string tls_error_text() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text;
}

Result<TlsContext> TlsContext::server(const std::string& cert_file, const std::string& key_file,
                                      std::string* error) {
  ERR_clear_error();
  auto ctx = new_context(TLS_server_method());
  if (!ctx) {
    *error = "cannot create a TLS context: " + tls_error_text();
    return Error::tls_handshake_failed;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
    *error = "TLS certificate " + cert_file + ": " + tls_error_text();
    return errno_code(EINVAL);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    *error = "TLS key " + key_file + ": " + tls_error_text();
    return errno_code(EINVAL);
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    *error = "TLS key " + key_file + " does not match certificate " + cert_file;
    return errno_code(EINVAL);
  }
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER);
  return TlsContext(std::move(ctx), true, false);
}

Result<TlsContext> TlsContext::client(bool verify_peer, const std::string& ca_file,
                                      std::string* error) {
  ERR_clear_error();
  auto ctx = new_context(TLS_client_method());
  if (!ctx) {
    *error = "cannot create a TLS context: " + tls_error_text();
    return Error::tls_handshake_failed;
  }
  if (verify_peer) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
      *error = "cannot load the system's trusted certificates: " + tls_error_text();
      return errno_code(EINVAL);
    }
    if (!ca_file.empty() &&
        SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
      *error = "CA file " + ca_file + ": " + tls_error_text();
      return errno_code(EINVAL);
    }
  }
  // No client session cache: sessions are kept and offered explicitly (FTPS data connections
  // resume the control connection's). With a client cache, OpenSSL drops a TLS 1.3 session
  // from it after one resumption and marks it not resumable, which would fail an FTPS
  // session's second data connection.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  return TlsContext(std::move(ctx), false, verify_peer);
}

void TlsContext::set_session_lifetime(std::chrono::seconds lifetime) {
  SSL_CTX_set_timeout(ctx_.get(), static_cast<long>(std::max<std::int64_t>(1, lifetime.count())));
}

std::string TlsContext::certificate_fingerprint() const {
  X509* cert = SSL_CTX_get0_certificate(ctx_.get());
  if (cert == nullptr) return {};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return {};
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    char b[4];
    std::snprintf(b, sizeof b, i == 0 ? "%02X" : ":%02X", md[i]);
    hex += b;
  }
  return hex;
}

}  // namespace muxio
