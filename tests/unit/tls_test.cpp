// TlsStream over loopback on every backend: a megabyte each way, session resumption tied to the
// session id context, certificate and host-name verification, clean and unclean ends, garbage
// instead of a ClientHello, and concurrent writers sharing one stream.
#include <cstdlib>
#include <filesystem>
#include <random>

#include "muxio/tls_stream.hpp"
#include "test_support.hpp"

namespace muxio {
namespace {

using test::random_bytes;
using test::read_exactly;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A self-signed certificate for "localhost" and 127.0.0.1, made once per test run.
struct TestCertificate {
  fs::path dir;
  std::string cert;
  std::string key;
  TestCertificate() {
    char tmpl[] = "/tmp/muxio-tls-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    cert = (dir / "cert.pem").string();
    key = (dir / "key.pem").string();
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-days 2 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
        key + " -out " + cert + " 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "openssl req failed";
  }
  ~TestCertificate() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

const TestCertificate& certificate() {
  static TestCertificate c;
  return c;
}

TlsContext server_context() {
  std::string error;
  auto ctx = TlsContext::server(certificate().cert, certificate().key, &error);
  EXPECT_TRUE(ctx.ok()) << error;
  return *ctx;
}

TlsContext client_context(bool verify, const std::string& ca = "") {
  std::string error;
  auto ctx = TlsContext::client(verify, ca, &error);
  EXPECT_TRUE(ctx.ok()) << error;
  return *ctx;
}

// Accepts one connection, shakes hands with `sid`, echoes until the peer's close_notify, then
// answers it with ours. Reports the handshake result and whether the session was resumed.
struct ServerResult {
  std::error_code handshake;
  bool reused = false;
  bool clean_close = false;
};

Task<void> tls_echo_once(TcpListener& listener, TlsContext ctx, std::string sid,
                         ServerResult& result) {
  auto a = co_await listener.accept();
  if (!a) {
    result.handshake = a.error();
    co_return;
  }
  TlsStream tls(std::move(a->stream), ctx);
  tls.set_session_id_context(sid);
  result.handshake = co_await with_timeout(5s, tls.handshake());
  if (result.handshake) co_return;
  result.reused = tls.session_reused();
  std::vector<std::byte> buf(8192);
  for (;;) {
    auto n = co_await tls.read_some(buf);
    if (!n || *n == 0) break;
    auto failed = co_await tls.write_all(std::span(buf.data(), *n));
    if (failed) co_return;
  }
  result.clean_close = tls.peer_closed_cleanly();
  (void)co_await tls.shutdown();
}

class Tls : public ::testing::TestWithParam<std::string> {
 protected:
  EventLoop loop{GetParam()};
  TcpListener listener = test::listen_local(loop);
  SocketAddress addr = *listener.local_address();
};

TEST_P(Tls, EchoesAMegabyteEachWayAndClosesCleanly) {
  ServerResult server;
  loop.spawn(tls_echo_once(listener, server_context(), "a", server));
  auto client = [&]() -> Task<void> {
    auto tcp = co_await TcpStream::connect(loop, addr);
    EXPECT_TRUE(tcp.ok());
    if (!tcp) co_return;
    TlsStream tls(std::move(*tcp), client_context(false));
    auto hs = co_await tls.handshake();
    EXPECT_FALSE(hs) << hs.message() << " " << tls.last_error();
    if (hs) co_return;
    EXPECT_EQ(tls.protocol(), "TLSv1.3");
    auto data = random_bytes(1 << 20, 7);
    auto sender = loop.spawn([](TlsStream& s, std::span<const std::byte> d) -> Task<void> {
      auto sent = co_await s.write_all(d);
      EXPECT_FALSE(sent);
    }(tls, data));
    auto back = co_await read_exactly(tls, data.size());
    auto joined = co_await sender.join();
    EXPECT_FALSE(joined);
    EXPECT_TRUE(back.ok() && *back == data);
    auto shut = co_await tls.shutdown();
    EXPECT_FALSE(shut);
    std::array<std::byte, 16> tail;
    auto eof = co_await tls.read_some(tail);
    EXPECT_TRUE(eof.ok() && *eof == 0);
    EXPECT_TRUE(tls.peer_closed_cleanly()) << "the server answered our close_notify";
  };
  loop.run_until_complete(client());
  EXPECT_FALSE(server.handshake);
  EXPECT_TRUE(server.clean_close);
}

// Connects, shakes hands offering `offer`, sends one message so that TLS 1.3 tickets arrive,
// and returns the session for the next connection.
Task<TlsSession> connect_once(EventLoop& loop, SocketAddress addr, TlsContext ctx, TlsSession offer,
                              bool& reused) {
  auto tcp = co_await TcpStream::connect(loop, addr);
  if (!tcp) co_return nullptr;
  TlsStream tls(std::move(*tcp), ctx);
  tls.offer_session(offer);
  auto handshake = co_await tls.handshake();
  if (handshake) co_return nullptr;
  reused = tls.session_reused();
  std::string_view ping = "ping";
  auto sent = co_await tls.write_all(ping);
  if (sent) co_return nullptr;
  auto back = co_await read_exactly(tls, ping.size());
  if (!back) co_return nullptr;
  TlsSession session = tls.session();
  (void)co_await tls.shutdown();
  std::array<std::byte, 16> tail;
  (void)co_await tls.read_some(tail);
  co_return session;
}

TEST_P(Tls, ResumesOnlyWithinTheSameSessionIdContext) {
  TlsContext server_ctx = server_context();
  TlsContext client_ctx = client_context(false);
  ServerResult first, same, other;
  bool reused[3] = {true, false, true};
  auto run = [&]() -> Task<void> {
    loop.spawn(tls_echo_once(listener, server_ctx, "control-1", first));
    TlsSession s = co_await connect_once(loop, addr, client_ctx, nullptr, reused[0]);
    EXPECT_TRUE(s != nullptr) << "a resumable session after the first connection";
    loop.spawn(tls_echo_once(listener, server_ctx, "control-1", same));
    (void)co_await connect_once(loop, addr, client_ctx, s, reused[1]);
    loop.spawn(tls_echo_once(listener, server_ctx, "control-2", other));
    (void)co_await connect_once(loop, addr, client_ctx, s, reused[2]);
  };
  loop.run_until_complete(run());
  EXPECT_FALSE(reused[0]);
  EXPECT_FALSE(first.reused);
  EXPECT_TRUE(reused[1]);
  EXPECT_TRUE(same.reused);
  EXPECT_FALSE(reused[2]) << "a session of another context is not resumed";
  EXPECT_FALSE(other.reused);
  EXPECT_FALSE(other.handshake) << "a full handshake instead";
}

Task<std::error_code> client_handshake(EventLoop& loop, SocketAddress addr, TlsContext ctx,
                                       std::string host) {
  auto tcp = co_await TcpStream::connect(loop, addr);
  if (!tcp) co_return tcp.error();
  TlsStream tls(std::move(*tcp), ctx);
  tls.set_host_name(host);
  co_return co_await tls.handshake();
}

TEST_P(Tls, VerifiesTheCertificateAndTheHostName) {
  ServerResult s1, s2, s3, s4;
  std::error_code untrusted, trusted_name, trusted_ip, wrong_name;
  auto run = [&]() -> Task<void> {
    loop.spawn(tls_echo_once(listener, server_context(), "x", s1));
    untrusted = co_await client_handshake(loop, addr, client_context(true), "localhost");
    TlsContext trusting = client_context(true, certificate().cert);
    loop.spawn(tls_echo_once(listener, server_context(), "x", s2));
    trusted_name = co_await client_handshake(loop, addr, trusting, "localhost");
    loop.spawn(tls_echo_once(listener, server_context(), "x", s3));
    trusted_ip = co_await client_handshake(loop, addr, trusting, "127.0.0.1");
    loop.spawn(tls_echo_once(listener, server_context(), "x", s4));
    wrong_name = co_await client_handshake(loop, addr, trusting, "example.org");
    co_await sleep_for(50ms);  // let the servers see the alerts
  };
  loop.run_until_complete(run());
  EXPECT_EQ(untrusted, Error::tls_certificate_rejected) << untrusted.message();
  EXPECT_FALSE(trusted_name) << trusted_name.message();
  EXPECT_FALSE(trusted_ip) << trusted_ip.message();
  EXPECT_EQ(wrong_name, Error::tls_certificate_rejected) << wrong_name.message();
}

TEST_P(Tls, PlainTextInsteadOfAHandshakeFailsCleanly) {
  ServerResult server;
  loop.spawn(tls_echo_once(listener, server_context(), "x", server));
  auto client = [&]() -> Task<void> {
    auto tcp = co_await TcpStream::connect(loop, addr);
    EXPECT_TRUE(tcp.ok());
    if (!tcp) co_return;
    auto sent = co_await tcp->send_all(std::string_view("USER anonymous\r\n"));
    EXPECT_FALSE(sent);
    std::array<std::byte, 256> buf;
    for (;;) {  // an alert, then the end of the stream
      auto n = co_await with_timeout(5s, tcp->read_some(buf));
      if (!n || *n == 0) break;
    }
  };
  loop.run_until_complete(client());
  EXPECT_EQ(server.handshake, Error::tls_handshake_failed) << server.handshake.message();
}

// An FTPS control connection: no tickets at the handshake, then one issued on demand (what
// muxftpd does before each data connection), which arrives ahead of the next message.
Task<void> ticket_on_demand_server(TcpListener& listener, TlsContext ctx, bool& issued) {
  auto a = co_await listener.accept();
  if (!a) co_return;
  TlsStream tls(std::move(a->stream), ctx);
  tls.set_session_id_context("control");
  tls.set_ticket_count(0);
  auto hs = co_await with_timeout(5s, tls.handshake());
  if (hs) co_return;
  auto ping = co_await read_exactly(tls, 1);
  if (!ping) co_return;
  issued = tls.issue_session_ticket();
  auto ec = co_await tls.write_all(std::string_view("b"));
  if (ec) co_return;
  std::array<std::byte, 16> tail;
  (void)co_await with_timeout(5s, tls.read_some(tail));
}

TEST_P(Tls, ATicketIssuedOnDemandGivesTheClientAFreshSession) {
  TlsContext server_ctx = server_context();
  bool issued = false;
  TlsSession before, after;
  loop.spawn(ticket_on_demand_server(listener, server_ctx, issued));
  auto client = [&]() -> Task<void> {
    auto tcp = co_await TcpStream::connect(loop, addr);
    if (!tcp) co_return;
    TlsStream tls(std::move(*tcp), client_context(false));
    auto hs = co_await tls.handshake();
    EXPECT_FALSE(hs);
    before = tls.session();
    auto ec = co_await tls.write_all(std::string_view("a"));
    EXPECT_FALSE(ec);
    auto pong = co_await read_exactly(tls, 1);
    EXPECT_TRUE(pong.ok());
    after = tls.session();
    (void)co_await tls.shutdown();
  };
  loop.run_until_complete(client());
  EXPECT_TRUE(issued);
  EXPECT_EQ(before, nullptr) << "no ticket at the handshake";
  ASSERT_NE(after, nullptr) << "the issued ticket arrived with the reply";
  ServerResult resumed;
  bool reused = false;
  loop.spawn(tls_echo_once(listener, server_ctx, "control", resumed));
  loop.run_until_complete(connect_once(loop, addr, client_context(false), after, reused));
  EXPECT_TRUE(reused);
  EXPECT_TRUE(resumed.reused) << "the fresh session resumes under the same context";
}

TEST_P(Tls, TcpCloseWithoutCloseNotifyReadsAsUncleanEnd) {
  auto server = [&]() -> Task<void> {
    auto a = co_await listener.accept();
    EXPECT_TRUE(a.ok());
    if (!a) co_return;
    TlsStream tls(std::move(a->stream), server_context());
    auto handshake = co_await tls.handshake();
    EXPECT_FALSE(handshake);
    std::array<std::byte, 64> buf;
    auto n = co_await with_timeout(5s, tls.read_some(buf));
    EXPECT_TRUE(n.ok() && *n == 0);
    EXPECT_FALSE(tls.peer_closed_cleanly());
  };
  auto h = loop.spawn(server());
  auto client = [&]() -> Task<void> {
    auto tcp = co_await TcpStream::connect(loop, addr);
    if (!tcp) co_return;
    TlsStream tls(std::move(*tcp), client_context(false));
    auto handshake = co_await tls.handshake();
    EXPECT_FALSE(handshake);
    // A TCP FIN without close_notify (not close(): unread tickets would turn it into a reset).
    EXPECT_FALSE(tls.transport().shutdown_write());
    (void)co_await h.join();
  };
  loop.run_until_complete(client());
}

// Two writers (as a session's reply and a transfer's reply) and one reader on one stream: each
// writer's messages arrive whole and in order.
TEST_P(Tls, ConcurrentWritersKeepRecordsInOrder) {
  ServerResult server;
  loop.spawn(tls_echo_once(listener, server_context(), "x", server));
  constexpr int kMessages = 300;
  auto writer = [](TlsStream& s, char tag) -> Task<void> {
    for (int i = 0; i < kMessages; ++i) {
      std::string line(1 + i % 40, tag);
      line += "\n";
      auto sent = co_await s.write_all(std::string_view(line));
      EXPECT_FALSE(sent);
    }
  };
  auto client = [&]() -> Task<void> {
    auto tcp = co_await TcpStream::connect(loop, addr);
    if (!tcp) co_return;
    TlsStream tls(std::move(*tcp), client_context(false));
    auto handshake = co_await tls.handshake();
    EXPECT_FALSE(handshake);
    auto a = loop.spawn(writer(tls, 'a'));
    auto b = loop.spawn(writer(tls, 'b'));
    std::size_t expected = 0;
    for (int i = 0; i < kMessages; ++i)
      expected += 2 * (2 + i % 40);
    auto back = co_await read_exactly(tls, expected);
    (void)co_await a.join();
    (void)co_await b.join();
    EXPECT_TRUE(back.ok()) << back.error().message() << " " << tls.last_error();
    if (!back) co_return;
    std::string text(reinterpret_cast<const char*>(back->data()), back->size());
    int next[2] = {0, 0};
    std::size_t pos = 0;
    while (pos < text.size()) {
      auto nl = text.find('\n', pos);
      EXPECT_NE(nl, std::string::npos);
      if (nl == std::string::npos) break;
      std::string line = text.substr(pos, nl - pos);
      int w = line[0] == 'a' ? 0 : 1;
      EXPECT_EQ(line, std::string(1 + next[w] % 40, line[0])) << "message " << next[w];
      ++next[w];
      pos = nl + 1;
    }
    EXPECT_EQ(next[0], kMessages);
    EXPECT_EQ(next[1], kMessages);
  };
  loop.run_until_complete(client());
}

INSTANTIATE_TEST_SUITE_P(Backends, Tls, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace muxio
