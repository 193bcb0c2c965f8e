#include "muxio/tls_stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>

namespace muxio {

namespace {

constexpr std::size_t kRecvChunk = 16 << 10;   // one TLS record's worth
constexpr std::size_t kWriteChunk = 64 << 10;  // plaintext per SSL_write before flushing

}  // namespace

TlsStream::TlsStream(TcpStream transport, const TlsContext& context)
    : transport_(std::move(transport)), ssl_(SSL_new(context.native())) {
  if (ssl_ == nullptr) throw std::bad_alloc();
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (in_ == nullptr || out_ == nullptr) {
    BIO_free(in_);
    BIO_free(out_);
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  // An empty input buffer means "wait for more", not end of stream.
  BIO_set_mem_eof_return(in_, -1);
  SSL_set_bio(ssl_, in_, out_);  // the SSL owns both BIOs now
  if (context.is_server()) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
}

TlsStream::~TlsStream() {
  // A connection that ends without close_notify (FTPS data connections often do) would make
  // OpenSSL mark its session unusable, and with it the session it resumed: a control
  // connection's, which the next data connection must resume again. Only a failed connection
  // deserves that.
  if (!failed_ && SSL_is_init_finished(ssl_) == 1) {
    SSL_set_shutdown(ssl_, SSL_get_shutdown(ssl_) | SSL_SENT_SHUTDOWN);
  }
  SSL_free(ssl_);
}

void TlsStream::set_session_id_context(std::string_view id) {
  id = id.substr(0, SSL_MAX_SID_CTX_LENGTH);
  SSL_set_session_id_context(ssl_, reinterpret_cast<const unsigned char*>(id.data()),
                             static_cast<unsigned>(id.size()));
}

void TlsStream::set_host_name(const std::string& host) {
  // SNI only for names (RFC 6066 forbids literal addresses there); verification for both.
  bool is_ip = host.find(':') != std::string::npos ||
               host.find_first_not_of("0123456789.") == std::string::npos;
  if (!is_ip) SSL_set_tlsext_host_name(ssl_, host.c_str());
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
}

void TlsStream::offer_session(const TlsSession& session) {
  if (session) SSL_set_session(ssl_, session.get());
}

void TlsStream::set_ticket_count(std::size_t n) {
  SSL_set_num_tickets(ssl_, n);
}

bool TlsStream::issue_session_ticket() {
  if (SSL_version(ssl_) != TLS1_3_VERSION || SSL_is_init_finished(ssl_) != 1) return false;
  return SSL_new_session_ticket(ssl_) == 1;
}

bool TlsStream::session_reused() const {
  return SSL_session_reused(ssl_) == 1;
}

TlsSession TlsStream::session() const {
  SSL_SESSION* s = SSL_get1_session(ssl_);
  if (s == nullptr) return nullptr;
  if (SSL_SESSION_is_resumable(s) != 1) {
    SSL_SESSION_free(s);
    return nullptr;
  }
  return TlsSession(s, SSL_SESSION_free);
}

std::string TlsStream::protocol() const {
  return SSL_get_version(ssl_);
}

std::string TlsStream::cipher() const {
  const char* c = SSL_get_cipher_name(ssl_);
  return c != nullptr ? c : "";
}

std::error_code TlsStream::fail(int err, Error fallback) {
  failed_ = true;
  last_error_ = tls_error_text();
  bool verifying = (SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER) != 0;
  if (verifying && SSL_is_init_finished(ssl_) == 0 && SSL_get_verify_result(ssl_) != X509_V_OK) {
    last_error_ = X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
    return make_error_code(Error::tls_certificate_rejected);
  }
  if (err == SSL_ERROR_SYSCALL && transport_eof_) return errno_code(ECONNRESET);
  if (last_error_.empty()) last_error_ = "SSL error " + std::to_string(err);
  return make_error_code(fallback);
}

// Sends what OpenSSL has produced. Whoever holds the lock drains everything pending, in order,
// so writers that queue behind it find their bytes already sent.
Task<std::error_code> TlsStream::flush() {
  if (BIO_ctrl_pending(out_) == 0) co_return std::error_code{};
  auto guard = co_await send_lock_.lock();
  if (!guard) co_return make_error_code(Error::cancelled);
  while (std::size_t pending = BIO_ctrl_pending(out_)) {
    send_buf_.resize(std::min(pending, kWriteChunk + 1024));
    int n = BIO_read(out_, send_buf_.data(), static_cast<int>(send_buf_.size()));
    if (n <= 0) break;
    auto ec =
        co_await transport_.send_all(std::span(send_buf_.data(), static_cast<std::size_t>(n)));
    if (ec) co_return ec;
  }
  co_return std::error_code{};
}

// Receives ciphertext for OpenSSL; remembers a TCP end of stream.
Task<std::error_code> TlsStream::fill() {
  if (transport_eof_) co_return errno_code(ECONNRESET);
  recv_buf_.resize(kRecvChunk);
  auto n = co_await transport_.recv(recv_buf_);
  if (!n) co_return n.error();
  if (*n == 0) {
    transport_eof_ = true;
    co_return errno_code(ECONNRESET);
  }
  BIO_write(in_, recv_buf_.data(), static_cast<int>(*n));
  co_return std::error_code{};
}

Task<std::error_code> TlsStream::handshake() {
  for (;;) {
    ERR_clear_error();
    int r = SSL_do_handshake(ssl_);
    // Now, before any suspension: another task's SSL call would overwrite it.
    int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
    std::error_code failed;
    if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ) {
      failed = fail(err, Error::tls_handshake_failed);
    }
    if (auto ec = co_await flush()) co_return ec;  // our flight, or the alert that ends it
    if (failed || r == 1) co_return failed;
    if (auto ec = co_await fill()) co_return ec;
  }
}

Task<Result<std::size_t>> TlsStream::read_some(std::span<std::byte> buf) {
  if (clean_close_) co_return std::size_t{0};
  for (;;) {
    ERR_clear_error();
    std::size_t n = 0;
    int r = SSL_read_ex(ssl_, buf.data(), buf.size(), &n);
    // Now, before any suspension: another task's SSL call would overwrite it.
    int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
    std::error_code failed;
    if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ && err != SSL_ERROR_ZERO_RETURN) {
      failed = fail(err, Error::tls_protocol_error);
    }
    // Reading can produce output too: the answer to a key update, an alert.
    if (auto ec = co_await flush()) co_return ec;
    if (r == 1) co_return n;
    if (failed) co_return failed;
    if (err == SSL_ERROR_ZERO_RETURN) {
      clean_close_ = true;
      co_return std::size_t{0};
    }
    auto ec = co_await fill();
    // A TCP FIN without close_notify: the end of the stream, but possibly truncated (the
    // caller can tell by peer_closed_cleanly()). Many FTPS clients end data this way.
    if (ec && transport_eof_) co_return std::size_t{0};
    if (ec) co_return ec;
  }
}

Task<std::error_code> TlsStream::write_all(std::span<const std::byte> buf) {
  while (!buf.empty()) {
    ERR_clear_error();
    std::size_t n = 0;
    int r = SSL_write_ex(ssl_, buf.data(), std::min(buf.size(), kWriteChunk), &n);
    if (r != 1) co_return fail(SSL_get_error(ssl_, r), Error::tls_protocol_error);
    buf = buf.subspan(n);
    if (auto ec = co_await flush()) co_return ec;
  }
  co_return std::error_code{};
}

Task<std::error_code> TlsStream::shutdown() {
  if (!shutdown_sent_) {
    shutdown_sent_ = true;
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);  // queues close_notify; we do not wait for the peer's
    if (auto ec = co_await flush()) co_return ec;
  }
  co_return transport_.shutdown_write();
}

void TlsStream::close() {
  transport_.close();
}

}  // namespace muxio
