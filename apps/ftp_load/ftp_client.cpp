#include "ftp_client.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <memory>

namespace ftp_load {

namespace {

// Downloads are counted, not kept: one buffer per thread serves every client on it.
thread_local std::array<char, 256 * 1024> discard_buffer;

void expect_class(const Reply& r, int hundreds, const std::string& step) {
  if (r.code / 100 != hundreds) throw Failure(step + ": " + std::to_string(r.code));
}

bool is_reply_end(const std::string& line, int code) {
  return line.size() >= 4 && line[3] == ' ' && std::atoi(line.substr(0, 3).c_str()) == code;
}

// "229 Entering Extended Passive Mode (|||6446|)": the port.
int parse_epsv(const std::string& text) {
  auto open = text.find('(');
  if (open == std::string::npos || open + 4 >= text.size()) return -1;
  char d = text[open + 1];
  if (text[open + 2] != d || text[open + 3] != d) return -1;
  return std::atoi(text.c_str() + open + 4);
}

// "227 Entering Passive Mode (127,0,0,1,195,80)": the port; the address is the control peer's,
// as curl does by default (a server behind NAT may advertise another).
int parse_pasv(const std::string& text) {
  auto open = text.find_first_of("0123456789", 4);
  if (open == std::string::npos) return -1;
  std::array<int, 6> v{};
  if (std::sscanf(text.c_str() + open, "%d,%d,%d,%d,%d,%d", &v[0], &v[1], &v[2], &v[3], &v[4],
                  &v[5]) != 6) {
    return -1;
  }
  return v[4] * 256 + v[5];
}

Endpoint with_port(Endpoint e, int port) {
  if (e.addr.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&e.addr)->sin6_port = htons(static_cast<std::uint16_t>(port));
  } else {
    reinterpret_cast<sockaddr_in*>(&e.addr)->sin_port = htons(static_cast<std::uint16_t>(port));
  }
  return e;
}

struct SessionFree {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};

}  // namespace

FtpClient::FtpClient(Reactor& reactor, const Endpoint& server, const ClientOptions& options)
    : reactor_(reactor), server_(server), options_(options), control_(reactor), data_(reactor) {}

Task<Reply> FtpClient::read_reply(Nanos deadline) {
  std::string line = co_await control_.read_line(deadline);
  if (line.size() < 3) throw Failure("malformed reply");
  Reply r{std::atoi(line.substr(0, 3).c_str()), line};
  if (line.size() > 3 && line[3] == '-') {  // multi-line: until "xyz " (RFC 959 §4.2)
    do {
      line = co_await control_.read_line(deadline);
    } while (!is_reply_end(line, r.code));
    r.text = line;
  }
  co_return r;
}

Task<Reply> FtpClient::command(std::string line, std::string step) {
  line += "\r\n";
  Nanos until = deadline();
  co_await control_.write_all(line, until);
  Reply r = co_await read_reply(until);
  if (r.code == 421) throw Failure(step + ": 421");  // refused or shutting down: always counted
  co_return r;
}

Task<void> FtpClient::login() {
  Nanos until = deadline();
  co_await control_.connect(server_, "control", until);
  Reply r = co_await read_reply(until);
  expect_class(r, 2, "greeting");
  if (options_.tls != nullptr) {
    r = co_await command("AUTH TLS", "AUTH TLS");
    expect_class(r, 2, "AUTH TLS");
    Nanos handshake_until = deadline();
    co_await control_.start_tls(options_.tls, nullptr, handshake_until);
  }
  r = co_await command("USER " + options_.user, "USER");
  if (r.code != 230) {
    if (r.code / 100 != 3) throw Failure("USER: " + std::to_string(r.code));
    r = co_await command("PASS " + options_.password, "PASS");
    expect_class(r, 2, "PASS");
  }
  if (options_.tls != nullptr) {
    r = co_await command("PBSZ 0", "PBSZ");
    expect_class(r, 2, "PBSZ");
    r = co_await command("PROT P", "PROT");
    expect_class(r, 2, "PROT");
  }
  r = co_await command("TYPE I", "TYPE");
  expect_class(r, 2, "TYPE");
}

Task<void> FtpClient::quit() {
  Reply r = co_await command("QUIT", "QUIT");
  expect_class(r, 2, "QUIT");
  control_.close();
}

Task<std::uint64_t> FtpClient::size(std::string path) {
  Reply r = co_await command("SIZE " + path, "SIZE");
  expect_class(r, 2, "SIZE");
  co_return std::strtoull(r.text.c_str() + 4, nullptr, 10);
}

Task<Endpoint> FtpClient::passive() {
  if (epsv_) {
    Reply r = co_await command("EPSV", "EPSV");
    if (r.code == 229) {
      int port = parse_epsv(r.text);
      if (port <= 0 || port > 65535) throw Failure("EPSV: malformed reply");
      co_return with_port(server_, port);
    }
    if (r.code / 100 != 5) throw Failure("EPSV: " + std::to_string(r.code));
    epsv_ = false;  // an old server: PASV from now on
  }
  Reply r = co_await command("PASV", "PASV");
  expect_class(r, 2, "PASV");
  int port = parse_pasv(r.text);
  if (port <= 0 || port > 65535) throw Failure("PASV: malformed reply");
  co_return with_port(server_, port);
}

// The order servers expect: the command, the TCP connection, the 150, then the TLS handshake
// (vsftpd, pure-ftpd and curl all handshake after the 150; a refusal such as 550 then comes
// without a handshake that would never finish).
Task<Connection*> FtpClient::open_data(std::string command_line, std::string step) {
  Endpoint to = co_await passive();
  std::string line = command_line + "\r\n";
  Nanos until = deadline();
  co_await control_.write_all(line, until);
  co_await data_.connect(to, "data", until);
  Reply r = co_await read_reply(until);
  expect_class(r, 1, step);
  if (options_.tls != nullptr) {
    std::unique_ptr<SSL_SESSION, SessionFree> session(control_.session());
    Nanos handshake_until = deadline();
    co_await data_.start_tls(options_.tls, session.get(), handshake_until);
  }
  co_return &data_;
}

Task<void> FtpClient::end_data(std::string step) {
  Nanos until = deadline();
  Reply r = co_await read_reply(until);
  expect_class(r, 2, step);
}

Task<std::uint64_t> FtpClient::download(std::string command_line) {
  std::string step = command_line.substr(0, command_line.find(' '));
  Connection* data = co_await open_data(command_line, step);
  std::uint64_t total = 0;
  for (;;) {
    Nanos until = deadline();  // a stall, not the whole transfer, is bounded
    std::size_t n = co_await data->read_some(std::span(discard_buffer), until);
    if (n == 0) break;
    total += n;
  }
  data->close();
  co_await end_data(step);
  co_return total;
}

Task<void> FtpClient::upload(std::string name, std::uint64_t bytes, std::string_view pattern) {
  std::string command_line = "STOR " + name;
  Connection* data = co_await open_data(command_line, "STOR");
  while (bytes > 0) {
    std::string_view chunk = pattern.substr(0, std::min<std::uint64_t>(bytes, pattern.size()));
    Nanos until = deadline();
    co_await data->write_all(chunk, until);
    bytes -= chunk.size();
  }
  Nanos until = deadline();
  co_await data->finish_upload(until);
  co_await end_data("STOR");
}

Task<void> FtpClient::hold(Nanos until) {
  char buf[512];
  std::size_t n = 0;
  bool held = false;
  try {
    n = co_await control_.read_some(std::span(buf), until);
  } catch (const Failure&) {
    held = now_ns() >= until;  // nothing came: what an idle session should see
    if (!held) throw;
  }
  if (held) co_return;
  if (n == 0) throw Failure("hold: closed by server");
  throw Failure("hold: " + std::string(buf, std::min<std::size_t>(n, 3)));
}

}  // namespace ftp_load
