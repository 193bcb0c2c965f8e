// One TCP connection of a simulated client, plain or TLS (OpenSSL on the non-blocking socket),
// with the few operations FTP needs: connect, handshake, read a line, read some, write all,
// close. Every operation takes a deadline and throws Failure when it passes or the peer fails.
#pragma once

#include <sys/socket.h>

#include <openssl/ssl.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "reactor.hpp"

namespace ftp_load {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

class Connection {
 public:
  explicit Connection(Reactor& reactor) : reactor_(reactor) {}
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // `what` names the step in failure reasons ("control", "data").
  Task<void> connect(const Endpoint& to, std::string what, Nanos deadline);
  // A TLS client handshake on the connected socket; `resume` (may be null) is offered for
  // session resumption, as FTPS servers require of data connections.
  Task<void> start_tls(SSL_CTX* ctx, SSL_SESSION* resume, Nanos deadline);
  // 0 at the end of the stream.
  Task<std::size_t> read_some(std::span<char> buf, Nanos deadline);
  // One line without its CR LF.
  Task<std::string> read_line(Nanos deadline);
  Task<void> write_all(std::string_view data, Nanos deadline);
  // The end of an upload: close_notify under TLS, FIN, then what the server still sends is read
  // until its end, so that no unread byte turns our close into a reset that could cut the upload.
  Task<void> finish_upload(Nanos deadline);
  void close();

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // The TLS session to resume on a data connection (a new reference: SSL_SESSION_free it).
  SSL_SESSION* session() const { return ssl_ != nullptr ? SSL_get1_session(ssl_) : nullptr; }
  const Endpoint& peer() const { return peer_; }

 private:
  // Waits after an SSL_ERROR_WANT_* (or EAGAIN): throws on the deadline.
  Task<void> wait(bool write, Nanos deadline, std::string_view what);
  std::size_t plain_read(std::span<char> buf, bool& again);

  Reactor& reactor_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  Endpoint peer_;
  std::string what_ = "control";
  std::string pending_;  // read past the last line returned
};

}  // namespace ftp_load
