#include "ftpc/control.hpp"

#include <array>

#include "ftp/host_port.hpp"
#include "ftp/time_format.hpp"
#include "ftpc/client_errors.hpp"
#include "ftpc/resolve.hpp"

namespace muxio::ftpc {

namespace {

Task<Result<Accepted>> accept_one(TcpListener& listener) {
  co_return co_await listener.accept();
}

}  // namespace

std::string describe_error(std::error_code ec, const ControlConnection* conn) {
  if (conn != nullptr && reply_code_of(ec) != 0) return with_hint(conn->last_reply_line(), ec);
  return with_hint(ec.message(), ec);
}

ControlConnection::ControlConnection(EventLoop& loop, TcpStream stream, Options options)
    : loop_(loop), control_(std::move(stream)), options_(options) {
  if (auto p = control_.peer_address()) peer_ = *p;
  if (auto l = control_.local_address()) local_ = *l;
}

Task<Result<std::unique_ptr<ControlConnection>>> ControlConnection::connect(EventLoop& loop,
                                                                            std::string host,
                                                                            std::uint16_t port,
                                                                            Options options) {
  auto addr = co_await resolve(host, port);
  if (!addr) co_return addr.error();
  auto stream = co_await with_timeout(options.connect_timeout, TcpStream::connect(loop, *addr));
  if (!stream) co_return stream.error();
  (void)stream->set_nodelay(true);
  auto conn = std::make_unique<ControlConnection>(loop, std::move(*stream), options);
  if (options.tls == Options::Tls::implicit) {
    if (auto ec = co_await conn->start_tls()) co_return ec;
  }
  for (int i = 0; i < 5; ++i) {  // 120 "ready in n minutes" may precede the 220
    auto greeting = co_await conn->read_reply();
    if (!greeting) co_return greeting.error();
    if (greeting->code == 120) continue;
    if (greeting->kind() != 2) co_return reply_error(greeting->code);
    if (options.tls == Options::Tls::explicit_auth) {
      auto auth = co_await conn->command("AUTH", "TLS");
      if (!auth) co_return auth.error();
      if (auth->code != 234) co_return reply_error(auth->code);  // never fall back to clear text
      if (auto ec = co_await conn->start_tls()) co_return ec;
    }
    co_return std::move(conn);
  }
  co_return make_error_code(ClientError::protocol);
}

Task<std::error_code> ControlConnection::start_tls() {
  if (!options_.tls_context) co_return make_error_code(ClientError::bad_argument);
  control_tls_ = std::make_unique<TlsStream>(std::move(control_), *options_.tls_context);
  control_tls_->set_host_name(options_.tls_host);
  auto ec = co_await with_timeout(options_.connect_timeout, control_tls_->handshake());
  if (ec) {
    usable_ = false;
    tls_error_ = control_tls_->last_error();
  }
  co_return ec;
}

std::string ControlConnection::tls_description() const {
  if (!control_tls_) return {};
  return control_tls_->protocol() + " " + control_tls_->cipher();
}

// PBSZ 0 and PROT P: data connections are protected too.
Task<std::error_code> ControlConnection::protect_data() {
  if (auto ec = co_await simple("PBSZ", "0", 2)) co_return ec;
  co_return co_await simple("PROT", "P", 2);
}

Task<std::error_code> ControlConnection::secure(DataStream& data) {
  if (!control_tls_) co_return std::error_code{};
  data.tls = std::make_unique<TlsStream>(std::move(data.tcp), *options_.tls_context);
  data.tls->set_host_name(options_.tls_host);
  // Servers accept a data connection only from whoever holds the control connection's session.
  data.tls->offer_session(control_tls_->session());
  auto ec = co_await with_timeout(options_.data_timeout, data.tls->handshake());
  if (ec) tls_error_ = data.tls->last_error();
  co_return ec;
}

std::string ControlConnection::last_reply_line() const {
  if (last_.code == 0) return {};
  std::string t = last_.text();
  auto nl = t.rfind('\n');
  if (nl != std::string::npos) t = t.substr(nl + 1);
  return std::to_string(last_.code) + " " + t;
}

Task<Result<ftp::Reply>> ControlConnection::read_reply() {
  std::array<std::byte, 4096> buf;
  for (;;) {
    std::string line;
    switch (lines_.next(&line)) {
      case ftp::LineReader::Status::line: {
        ftp::Reply reply;
        auto st = assembler_.add_line(line, &reply);
        if (st == ftp::ReplyAssembler::Status::complete) {
          last_ = reply;
          co_return reply;
        }
        if (st == ftp::ReplyAssembler::Status::malformed) {
          usable_ = false;
          co_return make_error_code(ClientError::protocol);
        }
        continue;
      }
      case ftp::LineReader::Status::too_long:
        continue;  // a line of a multi-line reply we cannot hold: dropped
      case ftp::LineReader::Status::need_more:
        break;
    }
    auto n = co_await with_timeout(options_.reply_timeout, control().read_some(buf));
    if (!n) {
      usable_ = false;
      co_return n.error();
    }
    if (*n == 0) {
      usable_ = false;
      co_return make_error_code(ClientError::closed);
    }
    lines_.feed(std::string_view(reinterpret_cast<const char*>(buf.data()), *n));
  }
}

Task<Result<ftp::Reply>> ControlConnection::command(std::string verb, std::string arg) {
  auto line = ftp::command_line(verb, arg);
  if (!line) co_return make_error_code(ClientError::bad_argument);
  auto bytes = std::as_bytes(std::span<const char>(line->data(), line->size()));
  auto ec = co_await with_timeout(options_.reply_timeout, control().write_all(bytes));
  if (ec) {
    usable_ = false;
    co_return ec;
  }
  co_return co_await read_reply();
}

Task<std::error_code> ControlConnection::simple(std::string verb, std::string arg,
                                                int expected_kind) {
  auto r = co_await command(verb, arg);
  if (!r) co_return r.error();
  if (r->kind() != expected_kind) co_return reply_error(r->code);
  co_return std::error_code{};
}

Task<std::error_code> ControlConnection::login(std::string user, std::string password) {
  std::string name = user.empty() ? std::string("anonymous") : user;
  std::string pass = password;
  if (user.empty() && pass.empty()) pass = "muxftp@";
  auto r = co_await command("USER", name);
  if (!r) co_return r.error();
  if (r->code == 331 || r->code == 332) {
    r = co_await command("PASS", pass);
    if (!r) co_return r.error();
  }
  if (r->code == 421) co_return reply_error(421);
  if (r->kind() != 2) co_return make_error_code(ClientError::login_failed);
  auto feat = co_await command("FEAT", "");
  if (!feat) co_return feat.error();
  if (feat->code == 211) features_ = ftp::parse_feat(*feat);
  if (control_tls_) {
    if (auto ec = co_await protect_data()) co_return ec;
  }
  if (has_feature("UTF8")) {
    auto u = co_await command("OPTS", "UTF8 ON");
    if (!u) co_return u.error();
  }
  co_return co_await simple("TYPE", "I", 2);
}

Task<Result<ControlConnection::DataSetup>> ControlConnection::prepare_data() {
  DataSetup setup;
  if (options_.active) {
    SocketAddress here = local_;
    here.set_port(0);
    ListenOptions lo{.backlog = 1};
    auto listener = TcpListener::bind(loop_, here, lo);
    if (!listener) co_return listener.error();
    auto bound = listener->local_address();
    if (!bound) co_return bound.error();
    setup.listener.emplace(std::move(*listener));
    if (!eprt_refused_) {
      auto r = co_await command("EPRT", ftp::format_eprt_arg(*bound));
      if (!r) co_return r.error();
      if (r->kind() == 2) co_return std::move(setup);
      if (r->kind() != 5 || !ftp::has_ipv4_form(*bound)) co_return reply_error(r->code);
      eprt_refused_ = true;
    }
    auto r = co_await command("PORT", ftp::format_port_arg(*bound));
    if (!r) co_return r.error();
    if (r->kind() != 2) co_return reply_error(r->code);
    co_return std::move(setup);
  }
  SocketAddress target = peer_;
  bool have_target = false;
  if (!epsv_refused_) {
    auto r = co_await command("EPSV", "");
    if (!r) co_return r.error();
    if (r->code == 229) {
      auto port = ftp::parse_epsv_reply(r->text());
      if (!port) co_return make_error_code(ClientError::protocol);
      target.set_port(*port);
      have_target = true;
    } else if (r->kind() == 5) {
      epsv_refused_ = true;
    } else {
      co_return reply_error(r->code);
    }
  }
  if (!have_target) {
    auto r = co_await command("PASV", "");
    if (!r) co_return r.error();
    if (r->code != 227) co_return reply_error(r->code);
    auto addr = ftp::parse_pasv_reply(r->text());
    if (!addr) co_return make_error_code(ClientError::protocol);
    // The address in the reply is ignored (as curl does): a server behind NAT often gets it
    // wrong, and following it would let a server aim our connection at any host.
    target.set_port(addr->port());
  }
  auto stream = co_await with_timeout(options_.data_timeout, TcpStream::connect(loop_, target));
  if (!stream) co_return stream.error();
  setup.stream.emplace(std::move(*stream));
  co_return std::move(setup);
}

Task<Result<ControlConnection::DataStream>> ControlConnection::open_transfer(std::string verb,
                                                                             std::string arg) {
  auto setup = co_await prepare_data();
  if (!setup) co_return setup.error();
  auto r = co_await command(verb, arg);
  if (!r) co_return r.error();
  if (r->kind() != 1) co_return reply_error(r->code);
  DataStream data;
  if (setup->stream) {
    data.tcp = std::move(*setup->stream);
  } else {
    for (;;) {
      auto a = co_await with_timeout(options_.data_timeout, accept_one(*setup->listener));
      if (!a) {
        usable_ = false;
        co_return a.error();
      }
      if (a->peer.ip() == peer_.ip()) {
        data.tcp = std::move(a->stream);
        break;
      }
      // Someone else connected to our port: not the server, refused.
    }
  }
  // RFC 4217: the TLS handshake on the data connection follows the 150.
  if (auto ec = co_await secure(data)) {
    usable_ = false;
    co_return ec;
  }
  co_return std::move(data);
}

Task<std::error_code> ControlConnection::finish_transfer(bool complete) {
  auto r = co_await read_reply();
  if (!r) co_return r.error();
  if (!complete) co_return std::error_code{};
  if (r->kind() != 2) co_return reply_error(r->code);
  co_return std::error_code{};
}

Task<Result<std::uint64_t>> ControlConnection::size(std::string path) {
  auto r = co_await command("SIZE", path);
  if (!r) co_return r.error();
  if (r->code != 213) co_return reply_error(r->code);
  auto v = ftp::parse_size_reply(r->text());
  if (!v) co_return make_error_code(ClientError::protocol);
  co_return *v;
}

Task<Result<ftp::HashReply>> ControlConnection::hash(std::string path, std::string algorithm) {
  if (hash_algorithm_ != algorithm) {
    auto chosen = co_await command("OPTS", "HASH " + algorithm);
    if (!chosen) co_return chosen.error();
    if (chosen->code != 200) co_return reply_error(chosen->code);
    hash_algorithm_ = algorithm;
  }
  auto r = co_await command("HASH", path);
  if (!r) co_return r.error();
  if (r->code != 213) co_return reply_error(r->code);
  auto parsed = ftp::parse_hash_reply(r->text());
  if (!parsed) co_return make_error_code(ClientError::protocol);
  co_return *parsed;
}

Task<Result<std::int64_t>> ControlConnection::mdtm(std::string path) {
  auto r = co_await command("MDTM", path);
  if (!r) co_return r.error();
  if (r->code != 213) co_return reply_error(r->code);
  std::string t = r->text();
  while (!t.empty() && t.back() == ' ')
    t.pop_back();
  auto v = ftp::parse_mdtm(t);
  if (!v) co_return make_error_code(ClientError::protocol);
  co_return *v;
}

Task<std::error_code> ControlConnection::set_mtime(std::string path, std::int64_t unix_seconds) {
  std::string arg = ftp::format_mdtm(unix_seconds) + " " + path;
  co_return co_await simple("MFMT", arg, 2);
}

Task<std::error_code> ControlConnection::mkdir(std::string path) {
  co_return co_await simple("MKD", path, 2);
}
Task<std::error_code> ControlConnection::remove(std::string path) {
  co_return co_await simple("DELE", path, 2);
}
Task<std::error_code> ControlConnection::rmdir(std::string path) {
  co_return co_await simple("RMD", path, 2);
}
Task<std::error_code> ControlConnection::cwd(std::string path) {
  co_return co_await simple("CWD", path, 2);
}

Task<std::error_code> ControlConnection::rename(std::string from, std::string to) {
  auto ec = co_await simple("RNFR", from, 3);
  if (ec) co_return ec;
  co_return co_await simple("RNTO", to, 2);
}

Task<Result<std::string>> ControlConnection::pwd() {
  auto r = co_await command("PWD", "");
  if (!r) co_return r.error();
  if (r->code != 257) co_return reply_error(r->code);
  auto p = ftp::parse_quoted_path(r->text());
  if (!p) co_return make_error_code(ClientError::protocol);
  co_return *p;
}

Task<void> ControlConnection::quit() {
  if (usable_ && control_socket().is_open()) {
    auto r = co_await with_timeout(std::chrono::seconds(3), command("QUIT", ""));
    (void)r;
  }
  control_socket().close();
}

}  // namespace muxio::ftpc
