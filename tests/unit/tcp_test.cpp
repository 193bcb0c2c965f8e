// TCP streams and listeners on every backend: echo, connect errors and timeouts, backpressure,
// sendfile, cancellation, IPv6, and the select backend's descriptor limit.
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <numeric>
#include <optional>
#include <random>

#include "test_support.hpp"

namespace muxio {
namespace {

using test::random_bytes;
using test::read_exactly;
using namespace std::chrono_literals;

Task<void> echo_once(TcpListener& listener) {
  auto a = co_await listener.accept();
  EXPECT_TRUE(a.ok()) << a.error().message();
  if (!a) co_return;
  std::array<std::byte, 4096> buf;
  for (;;) {
    auto n = co_await a->stream.recv(buf);
    if (!n || *n == 0) co_return;
    auto failed = co_await a->stream.send_all(std::span(buf.data(), *n));
    if (failed) co_return;
  }
}

// An unlinked temporary file holding data, for sendfile.
Result<int> file_of(const std::vector<std::byte>& data) {
  char path[] = "/tmp/muxio-sendfile-XXXXXX";
  int file = ::mkstemp(path);
  if (file < 0) return errno_code(errno);
  ::unlink(path);
  if (::write(file, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    ::close(file);
    return errno_code(EIO);
  }
  return file;
}

class Tcp : public ::testing::TestWithParam<std::string> {
 protected:
  EventLoop loop{GetParam()};
};

TEST_P(Tcp, EchoesAMegabyteByteExact) {
  TcpListener listener = test::listen_local(loop);
  auto addr = *listener.local_address();
  loop.spawn(echo_once(listener));
  auto client = [&]() -> Task<void> {
    auto s = co_await TcpStream::connect(loop, addr);
    EXPECT_TRUE(s.ok()) << s.error().message();
    if (!s) co_return;
    auto data = random_bytes(1 << 20, 1);
    // Send and receive concurrently, or both sides' buffers fill and everyone waits.
    auto sender = loop.spawn([](TcpStream& s, std::span<const std::byte> d) -> Task<void> {
      auto sent = co_await s.send_all(d);
      EXPECT_FALSE(sent);
    }(*s, data));
    auto back = co_await read_exactly(*s, data.size());
    auto joined = co_await sender.join();
    EXPECT_FALSE(joined);
    EXPECT_TRUE(back.ok());
    if (back) {
      EXPECT_TRUE(*back == data);
    }
    EXPECT_FALSE(s->shutdown_write());
    std::array<std::byte, 8> tail;
    auto eof = co_await s->recv(tail);
    EXPECT_TRUE(eof.ok() && *eof == 0) << "server closes after our FIN";
  };
  loop.run_until_complete(client());
}

TEST_P(Tcp, ConnectToAClosedPortFails) {
  SocketAddress addr;
  {
    TcpListener l = test::listen_local(loop);
    addr = *l.local_address();
  }
  auto r = loop.run_until_complete(TcpStream::connect(loop, addr));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), std::errc::connection_refused);
}

TEST_P(Tcp, ConnectTimesOutWhenTheBacklogIsFull) {
  TcpListener listener = test::listen_local(loop, {.backlog = 0});
  auto addr = *listener.local_address();
  // Never accepted: once the queue is full the kernel drops further SYNs and connect hangs.
  auto main = [&]() -> Task<bool> {
    std::vector<TcpStream> held;
    for (int i = 0; i < 16; ++i) {
      auto r = co_await with_timeout(200ms, TcpStream::connect(loop, addr));
      if (!r) co_return r.error() == Error::timed_out;
      held.push_back(std::move(*r));
    }
    co_return false;
  };
  EXPECT_TRUE(loop.run_until_complete(main())) << "no connect ever timed out";
}

TEST_P(Tcp, ASlowReaderSuspendsTheWriterInsteadOfGrowingMemory) {
  TcpListener listener = test::listen_local(loop);
  auto addr = *listener.local_address();
  std::size_t written = 0;
  bool writer_done = false;
  const std::size_t chunk = 1 << 20;
  const std::size_t total = 64 * chunk;
  auto writer = [&]() -> Task<void> {
    auto a = co_await listener.accept();
    if (!a) co_return;
    auto buf = random_bytes(chunk, 2);
    while (written < total) {
      auto failed = co_await a->stream.send_all(buf);
      if (failed) co_return;
      written += chunk;
    }
    writer_done = true;
  };
  auto main = [&]() -> Task<void> {
    auto s = co_await TcpStream::connect(loop, addr);
    if (!s) co_return;
    auto w = loop.spawn(writer());
    co_await sleep_for(200ms);  // the client reads nothing
    EXPECT_FALSE(writer_done);
    EXPECT_LT(written, 16 * chunk) << "the writer ran ahead of what the kernel could hold";
    std::vector<std::byte> buf(1 << 16);
    std::size_t read = 0;
    while (read < total) {
      auto n = co_await s->recv(buf);
      if (!n || *n == 0) break;
      read += *n;
    }
    EXPECT_EQ(read, total);
    (void)co_await w.join();
    EXPECT_TRUE(writer_done);
  };
  loop.run_until_complete(main());
}

TEST_P(Tcp, SendfileSendsAFileWithoutCopies) {
  auto data = random_bytes(3 * 1024 * 1024 + 17, 3);
  auto opened = file_of(data);
  ASSERT_TRUE(opened.ok());
  int file = *opened;
  TcpListener listener = test::listen_local(loop);
  auto addr = *listener.local_address();
  auto server = [&]() -> Task<void> {
    auto a = co_await listener.accept();
    if (!a) co_return;
    auto sent = co_await a->stream.sendfile(file, 100, data.size());  // from offset 100
    EXPECT_TRUE(sent.ok());
    if (sent) {
      EXPECT_EQ(*sent, data.size() - 100) << "short only at the end of the file";
    }
  };
  auto main = [&]() -> Task<void> {
    auto s = co_await TcpStream::connect(loop, addr);
    if (!s) co_return;
    auto srv = loop.spawn(server());
    auto got = co_await read_exactly(*s, data.size() - 100);
    EXPECT_TRUE(got.ok());
    if (got) {
      EXPECT_TRUE(std::equal(got->begin(), got->end(), data.begin() + 100));
    }
    (void)co_await srv.join();
  };
  loop.run_until_complete(main());
  ::close(file);
}

// A reader slower than the file: the socket fills, sendfile waits for it (on io_uring the splice
// into the socket gets EAGAIN and the operation polls for POLLOUT), and not a byte is lost or
// reordered. A count beyond the end of the file gives a short total, not an error.
TEST_P(Tcp, SendfileToASlowReaderWaitsAndLosesNothing) {
  auto data = random_bytes(6 * 1024 * 1024 + 5, 11);
  auto opened = file_of(data);
  ASSERT_TRUE(opened.ok());
  int file = *opened;
  TcpListener listener = test::listen_local(loop);
  auto addr = *listener.local_address();
  auto server = [&]() -> Task<void> {
    auto a = co_await listener.accept();
    if (!a) co_return;
    auto first = co_await a->stream.sendfile(file, 0, 1 << 20);
    EXPECT_TRUE(first.ok() && *first == (1u << 20));
    auto rest = co_await a->stream.sendfile(file, 1 << 20, data.size());  // asks for too much
    EXPECT_TRUE(rest.ok());
    if (rest) {
      EXPECT_EQ(*rest, data.size() - (1 << 20)) << "short at the end of the file";
    }
  };
  auto main = [&]() -> Task<void> {
    auto s = co_await TcpStream::connect(loop, addr);
    if (!s) co_return;
    auto srv = loop.spawn(server());
    std::vector<std::byte> got;
    std::vector<std::byte> buf(64 * 1024);
    int reads = 0;
    while (got.size() < data.size()) {
      auto n = co_await s->recv(buf);
      if (!n || *n == 0) break;
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
      if (++reads % 16 == 0) (void)co_await sleep_for(2ms);  // slower than the sender
    }
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data);
    (void)co_await srv.join();
  };
  loop.run_until_complete(main());
  ::close(file);
}

// Closing a stream while a sendfile waits on it (the peer reads nothing) completes the sendfile
// at once; on io_uring the kernel's splice may still be running, on a pipe and socket that must
// stay valid until it ends (ASan sees it otherwise).
TEST_P(Tcp, ClosingAStreamDuringASendfileCompletesIt) {
  auto data = random_bytes(16 * 1024 * 1024, 5);
  auto file = file_of(data);
  ASSERT_TRUE(file.ok());
  TcpListener listener = test::listen_local(loop);
  auto addr = *listener.local_address();
  auto main = [&]() -> Task<void> {
    auto peer = co_await TcpStream::connect(loop, addr);
    auto a = co_await listener.accept();
    if (!peer || !a) co_return;
    bool done = false;
    auto sender = [&]() -> Task<void> {
      (void)co_await a->stream.sendfile(*file, 0, data.size());
      done = true;
    };
    auto h = loop.spawn(sender());
    (void)co_await sleep_for(20ms);
    EXPECT_FALSE(done) << "16 MiB cannot fit in the socket buffers of a peer that never reads";
    a->stream.close();
    co_await h.join();
    EXPECT_TRUE(done);
    std::array<std::byte, 4096> buf;  // the peer sees data, then the end: no hang
    for (;;) {
      auto n = co_await peer->recv(buf);
      if (!n || *n == 0) break;
    }
  };
  loop.run_until_complete(main());
  ::close(*file);
}

// A sendfile cancelled halfway may leave bytes in io_uring's splice pipe; they must never come
// out in front of the stream's next sendfile. The peer sees a prefix of A, the marker, then all of
// B and nothing else.
TEST_P(Tcp, ACancelledSendfileLeavesNoStaleBytesForTheNext) {
  std::vector<std::byte> a_data(16 * 1024 * 1024, std::byte{'A'});
  std::vector<std::byte> b_data(1024 * 1024, std::byte{'B'});
  auto file_a = file_of(a_data);
  auto file_b = file_of(b_data);
  ASSERT_TRUE(file_a.ok() && file_b.ok());
  TcpListener listener = test::listen_local(loop);
  auto addr = *listener.local_address();
  auto main = [&]() -> Task<void> {
    auto peer = co_await TcpStream::connect(loop, addr);
    auto a = co_await listener.accept();
    if (!peer || !a) co_return;
    auto first = [&]() -> Task<void> {
      (void)co_await a->stream.sendfile(*file_a, 0, a_data.size());
    };
    auto h = loop.spawn(first());
    (void)co_await sleep_for(20ms);
    h.cancel();
    co_await h.join();
    auto sender = [&]() -> Task<void> {
      auto sent = co_await a->stream.send_all(std::string_view("|"));
      EXPECT_FALSE(sent);
      auto n = co_await a->stream.sendfile(*file_b, 0, b_data.size());
      EXPECT_TRUE(n.ok() && *n == b_data.size());
      (void)a->stream.shutdown_write();
    };
    auto s = loop.spawn(sender());
    std::vector<std::byte> got;
    std::array<std::byte, 65536> buf;
    for (;;) {
      auto n = co_await peer->recv(buf);
      if (!n || *n == 0) break;
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    co_await s.join();
    auto bar = std::find(got.begin(), got.end(), std::byte{'|'});
    EXPECT_NE(bar, got.end()) << "the marker never came";
    if (bar == got.end()) co_return;
    EXPECT_TRUE(std::all_of(got.begin(), bar, [](std::byte b) { return b == std::byte{'A'}; }));
    EXPECT_EQ(static_cast<std::size_t>(got.end() - bar - 1), b_data.size());
    EXPECT_TRUE(std::all_of(bar + 1, got.end(), [](std::byte b) { return b == std::byte{'B'}; }))
        << "bytes of the cancelled transfer came out after it";
  };
  loop.run_until_complete(main());
  ::close(*file_a);
  ::close(*file_b);
}

// Out of descriptors, io_uring cannot make its splice pipe: sendfile then waits for POLLOUT on the
// ring and calls sendfile(2) itself. Every byte still arrives, on every backend.
TEST_P(Tcp, SendfileWorksWhenNoPipeCanBeMade) {
  auto data = random_bytes(3 * 1024 * 1024, 9);
  auto file = file_of(data);
  ASSERT_TRUE(file.ok());
  TcpListener listener = test::listen_local(loop);
  auto addr = *listener.local_address();
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  std::vector<int> fillers;
  auto main = [&]() -> Task<void> {
    auto peer = co_await TcpStream::connect(loop, addr);
    auto a = co_await listener.accept();
    if (!peer || !a) co_return;
    // Take every descriptor left: no pipe, no dup, from here until the transfer ends.
    rlimit tight = saved;
    tight.rlim_cur = static_cast<rlim_t>(std::max(peer->fd(), a->stream.fd()) + 64);
    ::setrlimit(RLIMIT_NOFILE, &tight);
    for (int fd; (fd = ::dup(0)) >= 0;)
      fillers.push_back(fd);
    auto sender = [&]() -> Task<void> {
      auto n = co_await a->stream.sendfile(*file, 0, data.size());
      EXPECT_TRUE(n.ok() && *n == data.size()) << (n ? "" : n.error().message());
    };
    auto h = loop.spawn(sender());
    auto got = co_await read_exactly(*peer, data.size());
    EXPECT_TRUE(got.ok() && *got == data);
    co_await h.join();
  };
  loop.run_until_complete(main());
  for (int fd : fillers)
    ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ::close(*file);
}

TEST_P(Tcp, CancellingAPendingReadLeavesTheStreamUsable) {
  TcpListener listener = test::listen_local(loop);
  auto addr = *listener.local_address();
  auto main = [&]() -> Task<void> {
    auto s = co_await TcpStream::connect(loop, addr);
    auto peer = co_await listener.accept();
    if (!s || !peer) co_return;
    std::array<std::byte, 16> buf;
    auto reader = loop.spawn([](TcpStream& s, std::span<std::byte> b) -> Task<void> {
      auto r = co_await s.recv(b);
      EXPECT_FALSE(r.ok());
      EXPECT_EQ(r.error(), Error::cancelled);
    }(*s, buf));
    co_await sleep_for(5ms);
    reader.cancel();
    (void)co_await reader.join();
    auto sent = co_await peer->stream.send_all(std::string_view("hi"));
    EXPECT_FALSE(sent);
    auto n = co_await s->recv(buf);
    EXPECT_TRUE(n.ok() && *n == 2);
  };
  loop.run_until_complete(main());
}

TEST_P(Tcp, ClosingAStreamCompletesItsWaitingOperation) {
  TcpListener listener = test::listen_local(loop);
  auto addr = *listener.local_address();
  auto main = [&]() -> Task<void> {
    auto s = co_await TcpStream::connect(loop, addr);
    if (!s) co_return;
    std::array<std::byte, 16> buf;
    auto reader = loop.spawn([](TcpStream& s, std::span<std::byte> b) -> Task<void> {
      auto r = co_await s.recv(b);
      EXPECT_EQ(r.error(), std::errc::operation_canceled);
    }(*s, buf));
    co_await sleep_for(5ms);
    s->close();
    (void)co_await reader.join();
    auto after = co_await s->recv(buf);
    EXPECT_EQ(after.error(), std::errc::bad_file_descriptor);
  };
  loop.run_until_complete(main());
}

// A listener destroyed while its accept is in flight, with a connection that arrived just
// before: on io_uring the kernel may complete the accept before the cancellation reaches it.
// The accept reports the cancellation (the listener is gone), and the connection it took is
// closed rather than leaked or handed to nobody.
TEST_P(Tcp, DestroyingAListenerWhileItsAcceptCompletesClosesTheConnection) {
  std::optional<TcpListener> listener(test::listen_local(loop));
  auto addr = *listener->local_address();
  auto main = [&]() -> Task<void> {
    auto acceptor = loop.spawn([](TcpListener& l) -> Task<void> {
      auto a = co_await l.accept();
      EXPECT_FALSE(a.ok()) << "a connection accepted for a listener that is gone";
    }(*listener));
    co_await sleep_for(5ms);  // the accept is waiting (on io_uring: submitted)
    int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(client, 0);
    if (client < 0) co_return;
    // Blocking, on loopback: the connection is queued (and the ring's accept woken) before the
    // loop runs again.
    EXPECT_EQ(::connect(client, addr.data(), addr.size()), 0) << errno;
    listener.reset();
    (void)co_await acceptor.join();
    // The server side is closed: the client sees the end (FIN or reset), within a bound. The
    // loop keeps running meanwhile (a close may go through the ring).
    pollfd p{client, POLLIN, 0};
    int ready = 0;
    for (int i = 0; i < 500 && ready == 0; ++i) {
      ready = ::poll(&p, 1, 0);
      if (ready == 0) co_await sleep_for(10ms);
    }
    EXPECT_EQ(ready, 1);
    char byte;
    EXPECT_LE(::recv(client, &byte, 1, MSG_DONTWAIT), 0);
    ::close(client);
  };
  loop.run_until_complete(main());
}

TEST_P(Tcp, Ipv6Loopback) {
  auto addr = SocketAddress::parse("[::1]:0");
  auto l = TcpListener::bind(loop, *addr);
  if (!l) GTEST_SKIP() << "no IPv6 here: " << l.error().message();
  auto bound = *l->local_address();
  loop.spawn(echo_once(*l));
  auto main = [&]() -> Task<void> {
    auto s = co_await TcpStream::connect(loop, bound);
    EXPECT_TRUE(s.ok());
    if (!s) co_return;
    EXPECT_TRUE(s->peer_address()->is_v6());
    auto sent = co_await s->send_all(std::string_view("ping6"));
    EXPECT_FALSE(sent);
    auto back = co_await read_exactly(*s, 5);
    EXPECT_TRUE(back.ok());
  };
  loop.run_until_complete(main());
}

// An empty directory listing is an empty write: it succeeds at once on every backend (io_uring
// answers a zero-byte send with 0, which must not read as a closed peer).
TEST_P(Tcp, SendingNothingSucceeds) {
  TcpListener listener = test::listen_local(loop);
  auto addr = *listener.local_address();
  auto main = [&]() -> Task<void> {
    auto s = co_await TcpStream::connect(loop, addr);
    if (!s) co_return;
    auto a = co_await listener.accept();
    EXPECT_TRUE(a.ok());
    auto sent_nothing = co_await s->send_all(std::string_view{});
    EXPECT_FALSE(sent_nothing);
    auto wrote_nothing = co_await s->write_all({});
    EXPECT_FALSE(wrote_nothing);
    auto sent = co_await s->send_all(std::string_view("x"));
    EXPECT_FALSE(sent);
    std::array<std::byte, 4> buf;
    auto n = co_await a->stream.recv(buf);
    EXPECT_TRUE(n.ok() && *n == 1);
  };
  loop.run_until_complete(main());
}

TEST_P(Tcp, StreamInterfaceWorksPolymorphically) {
  TcpListener listener = test::listen_local(loop);
  auto addr = *listener.local_address();
  loop.spawn(echo_once(listener));
  auto main = [&]() -> Task<void> {
    auto s = co_await TcpStream::connect(loop, addr);
    if (!s) co_return;
    Stream& stream = *s;
    auto sent = co_await stream.write_all(test::bytes_of("abc"));
    EXPECT_FALSE(sent);
    std::array<std::byte, 3> buf;
    std::size_t got = 0;
    while (got < 3) {
      auto n = co_await stream.read_some(std::span(buf).subspan(got));
      if (!n || *n == 0) break;
      got += *n;
    }
    EXPECT_EQ(got, 3u);
    auto shut = co_await stream.shutdown();
    EXPECT_FALSE(shut);
  };
  loop.run_until_complete(main());
}

TEST_P(Tcp, DescriptorsSelectCannotWatchFailCleanly) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur <= FD_SETSIZE + 10) GTEST_SKIP() << "RLIMIT_NOFILE too low";
  test::SocketPair p;
  int high = ::fcntl(p.fd[0], F_DUPFD_CLOEXEC, FD_SETSIZE + 3);
  ASSERT_GE(high, FD_SETSIZE);
  auto main = [&]() -> Task<Result<std::size_t>> {
    TcpStream s(loop, high);
    std::array<std::byte, 4> buf;
    co_return co_await s.recv(buf);  // nothing to read: must wait, and select cannot
  };
  if (GetParam() == "select") {
    auto r = loop.run_until_complete(main());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Error::fd_too_large_for_select);
  } else {
    ASSERT_EQ(::write(p.fd[1], "abcd", 4), 4);
    auto r = loop.run_until_complete(main());
    EXPECT_TRUE(r.ok() && *r == 4);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Tcp, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace muxio
