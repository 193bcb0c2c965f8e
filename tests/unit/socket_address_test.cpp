#include "test_support.hpp"

namespace muxio {
namespace {

TEST(SocketAddress, ParsesIpv4Ipv6AndAliases) {
  auto a = SocketAddress::parse("127.0.0.1:2121");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->is_v6());
  EXPECT_EQ(a->port(), 2121);
  EXPECT_EQ(a->to_string(), "127.0.0.1:2121");

  auto b = SocketAddress::parse("[::1]:21");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->is_v6());
  EXPECT_EQ(b->ip(), "::1");
  EXPECT_EQ(b->to_string(), "[::1]:21");

  EXPECT_EQ(SocketAddress::parse("localhost:80")->ip(), "127.0.0.1");
  EXPECT_EQ(SocketAddress::parse("*:80")->ip(), "0.0.0.0");
  EXPECT_EQ(SocketAddress::parse(":80")->ip(), "0.0.0.0");
}

TEST(SocketAddress, RejectsMalformedInput) {
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x", "::1:80",
        "[::1]80", "[::1", "300.1.1.1:80", "example.org:80", "[zz::1]:80"}) {
    auto r = SocketAddress::parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error(), Error::bad_address) << bad;
    }
  }
}

TEST(SocketAddress, SetPortKeepsTheHost) {
  auto a = SocketAddress::parse("[::1]:1");
  a->set_port(4242);
  EXPECT_EQ(a->to_string(), "[::1]:4242");
}

}  // namespace
}  // namespace muxio
