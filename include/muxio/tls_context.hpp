// TlsContext: the shared TLS configuration of one side of many connections (an OpenSSL SSL_CTX):
// certificate and key for a server, trust anchors for a client, protocol versions and ciphers.
// Safe to share between loops on several threads; cheap to copy (reference-counted).
//
// Defaults are the sane ones, not the permissive ones: TLS 1.2 or newer, forward-secret AEAD
// ciphers only for TLS 1.2 (TLS 1.3's suites are all fine), no compression, no renegotiation.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "muxio/result.hpp"

struct ssl_ctx_st;
struct ssl_session_st;

namespace muxio {

// A resumable TLS session a client got from one connection and offers on the next (FTPS data
// connections resume the control connection's session).
using TlsSession = std::shared_ptr<ssl_session_st>;

class TlsContext {
 public:
  // A server presenting the PEM certificate chain and private key in these files.
  static Result<TlsContext> server(const std::string& cert_file, const std::string& key_file,
                                   std::string* error);
  // A client; with verify_peer it checks the server's certificate against the system's trust
  // store (plus ca_file when given) and the host name set on each stream.
  static Result<TlsContext> client(bool verify_peer, const std::string& ca_file,
                                   std::string* error);

  // Server: how long a session (a TLS 1.3 ticket, a TLS 1.2 session id or ticket) may be
  // resumed after it was issued; OpenSSL's default is 7,200 s. TLS 1.3 caps the ticket lifetime
  // hint at 7 days.
  void set_session_lifetime(std::chrono::seconds lifetime);

  bool is_server() const { return server_; }
  bool verifies_peer() const { return verify_peer_; }
  // SHA-256 of the server certificate, "AB:CD:...": what a user compares against a client's
  // "unknown certificate" warning. Empty for client contexts.
  std::string certificate_fingerprint() const;

  ssl_ctx_st* native() const { return ctx_.get(); }

 private:
  TlsContext(std::shared_ptr<ssl_ctx_st> ctx, bool server, bool verify_peer)
      : ctx_(std::move(ctx)), server_(server), verify_peer_(verify_peer) {}

  std::shared_ptr<ssl_ctx_st> ctx_;
  bool server_ = false;
  bool verify_peer_ = false;
};

// The text of OpenSSL's error queue (and clears it): for logs and error messages.
std::string tls_error_text();

}  // namespace muxio
