// The FTP a load client speaks (RFC 959, EPSV of RFC 2428, explicit FTPS of RFC 4217): log in,
// passive data connections, RETR/LIST-style downloads, STOR, idle holding, QUIT. Each step throws
// Failure with a short reason ("PASS: 530") when the server answers something else.
#pragma once

#include <cstdint>
#include <string>

#include "connection.hpp"

namespace ftp_load {

struct ClientOptions {
  std::string user;
  std::string password;
  SSL_CTX* tls = nullptr;  // explicit FTPS (AUTH TLS, PROT P) when set
  Nanos step_timeout = 30'000'000'000;
};

struct Reply {
  int code = 0;
  std::string text;  // the last line
};

class FtpClient {
 public:
  FtpClient(Reactor& reactor, const Endpoint& server, const ClientOptions& options);

  // Connect, greeting, [AUTH TLS], USER, PASS, [PBSZ 0, PROT P], TYPE I.
  Task<void> login();
  Task<void> quit();
  Task<std::uint64_t> size(std::string path);
  // Sends `command` (RETR x, LIST x, NLST, MLSD) over a fresh passive data connection and reads
  // the data to its end; the byte count.
  Task<std::uint64_t> download(std::string command);
  // STOR of `bytes` bytes from `pattern`, repeated.
  Task<void> upload(std::string name, std::uint64_t bytes, std::string_view pattern);
  // Logged in and silent until `until`; a server that closes the session or speaks (a timeout
  // 421) is a failure.
  Task<void> hold(Nanos until);

 private:
  Task<Reply> read_reply(Nanos deadline);
  Task<Reply> command(std::string line, std::string step);
  Task<Endpoint> passive();
  Task<Connection*> open_data(std::string command, std::string step);
  Task<void> end_data(std::string step);
  Nanos deadline() const { return now_ns() + options_.step_timeout; }

  Reactor& reactor_;
  Endpoint server_;
  const ClientOptions& options_;
  Connection control_;
  Connection data_;
  bool epsv_ = true;  // EPSV until the server refuses it, then PASV
};

}  // namespace ftp_load
