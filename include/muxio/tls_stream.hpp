// TlsStream: TLS over a TcpStream, as a Stream. Code written against Stream& (an FTP session's
// control connection, a data transfer) works unchanged over TLS.
//
// OpenSSL never touches the socket: it reads ciphertext from one memory buffer and writes
// ciphertext to another, and this class moves the bytes between those buffers and the socket
// with the loop's ordinary recv/send operations. So handshakes and records never block the loop,
// and TLS runs on every backend, the io_uring proactor included.
//
// One reader and any number of writers may be active at once (a session reads commands while a
// transfer task replies): ciphertext leaves in the order it was produced, under one send lock.
// Loop thread only; not movable (hold it by unique_ptr).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "muxio/async_mutex.hpp"
#include "muxio/tcp_stream.hpp"
#include "muxio/tls_context.hpp"

struct ssl_st;
struct bio_st;

namespace muxio {

class TlsStream final : public Stream {
 public:
  // Wraps a connected stream; the handshake runs in handshake(). Client or server role comes
  // from the context.
  TlsStream(TcpStream transport, const TlsContext& context);
  ~TlsStream() override;
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Before the handshake. Server: only sessions created under the same context id may resume
  // (an FTPS server gives each control connection its own, so its data connections can resume
  // only that session). Client: the name sent as SNI and checked against the certificate.
  void set_session_id_context(std::string_view id);
  void set_host_name(const std::string& host);
  // Client: offer this session for resumption.
  void offer_session(const TlsSession& session);
  // Server: how many session tickets to send after the handshake (0 for connections whose
  // sessions nobody resumes).
  void set_ticket_count(std::size_t n);
  // Server, TLS 1.3, after the handshake: one more session ticket, sent ahead of the next
  // write. False where there is none to send (TLS 1.2 has no tickets after the handshake).
  bool issue_session_ticket();

  // Bound it with with_timeout(): a peer that stops mid-handshake would hold it forever.
  Task<std::error_code> handshake();

  bool session_reused() const;
  // Client: the session to offer on the next connection (valid once a reply has been read,
  // since TLS 1.3 servers send their tickets after the handshake).
  TlsSession session() const;
  std::string protocol() const;  // "TLSv1.3"
  std::string cipher() const;
  // Whether the peer ended with a TLS close_notify, not only a TCP FIN (a truncation).
  bool peer_closed_cleanly() const { return clean_close_; }
  // What OpenSSL said about the last failure.
  const std::string& last_error() const { return last_error_; }

  Task<Result<std::size_t>> read_some(std::span<std::byte> buf) override;
  Task<std::error_code> write_all(std::span<const std::byte> buf) override;
  Task<std::error_code> write_all(std::string_view s) {
    return write_all(std::as_bytes(std::span<const char>(s.data(), s.size())));
  }
  // Sends close_notify and the TCP FIN.
  Task<std::error_code> shutdown() override;
  void close() override;

  TcpStream& transport() { return transport_; }

 private:
  Task<std::error_code> flush();
  Task<std::error_code> fill();
  // Turns an SSL_get_error() result into an error code and remembers OpenSSL's explanation.
  std::error_code fail(int ssl_error, Error fallback);

  TcpStream transport_;
  ssl_st* ssl_ = nullptr;
  bio_st* in_ = nullptr;   // ciphertext received, for OpenSSL to read
  bio_st* out_ = nullptr;  // ciphertext OpenSSL produced, to send
  AsyncMutex send_lock_;
  std::vector<std::byte> recv_buf_;
  std::vector<std::byte> send_buf_;
  bool transport_eof_ = false;
  bool clean_close_ = false;
  bool shutdown_sent_ = false;
  bool failed_ = false;  // a TLS error: the session must not be resumed
  std::string last_error_;
};

}  // namespace muxio
