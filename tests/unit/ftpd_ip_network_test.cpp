#include <gtest/gtest.h>

#include "ftpd/ip_network.hpp"

namespace muxio::ftpd {
namespace {

SocketAddress addr(std::string_view host_port) {
  return SocketAddress::parse(host_port).value();
}

IpNetwork net(std::string_view cidr) {
  auto n = IpNetwork::parse(cidr);
  EXPECT_TRUE(n.has_value()) << cidr;
  return n.value_or(IpNetwork{});
}

TEST(IpNetwork, V4Prefixes) {
  const auto ten = net("10.0.0.0/8");
  EXPECT_TRUE(ten.contains(addr("10.1.2.3:21")));
  EXPECT_TRUE(ten.contains(addr("10.255.255.255:1")));
  EXPECT_FALSE(ten.contains(addr("11.0.0.0:21")));
  EXPECT_FALSE(ten.contains(addr("9.255.255.255:21")));
  EXPECT_EQ(ten.to_string(), "10.0.0.0/8");

  const auto odd = net("192.168.4.0/22");
  EXPECT_TRUE(odd.contains(addr("192.168.7.255:1")));
  EXPECT_FALSE(odd.contains(addr("192.168.8.0:1")));
  EXPECT_FALSE(odd.contains(addr("192.168.3.255:1")));

  const auto host = net("127.0.0.2");
  EXPECT_EQ(host.to_string(), "127.0.0.2/32");
  EXPECT_TRUE(host.contains(addr("127.0.0.2:5")));
  EXPECT_FALSE(host.contains(addr("127.0.0.3:5")));

  const auto all = net("0.0.0.0/0");
  EXPECT_TRUE(all.contains(addr("1.2.3.4:1")));
  EXPECT_FALSE(all.contains(addr("[2001:db8::1]:1")));
}

TEST(IpNetwork, V6Prefixes) {
  const auto doc = net("2001:db8::/32");
  EXPECT_TRUE(doc.contains(addr("[2001:db8:ffff::1]:21")));
  EXPECT_FALSE(doc.contains(addr("[2001:db9::1]:21")));
  EXPECT_FALSE(doc.contains(addr("10.0.0.1:21")));
  EXPECT_EQ(doc.to_string(), "2001:db8::/32");

  const auto loop = net("::1");
  EXPECT_EQ(loop.to_string(), "::1/128");
  EXPECT_TRUE(loop.contains(addr("[::1]:1")));
  EXPECT_FALSE(loop.contains(addr("[::2]:1")));

  const auto ula = net("fc00::/7");
  EXPECT_TRUE(ula.contains(addr("[fd12::1]:1")));
  EXPECT_FALSE(ula.contains(addr("[fe80::1]:1")));
  EXPECT_FALSE(IpNetwork::parse("fe80::/7").has_value());  // bit 9 is a host bit
}

TEST(IpNetwork, V4MappedV6) {
  // An IPv4 network matches the v4-mapped address of a dual-stack listener, and the reverse.
  EXPECT_TRUE(net("10.0.0.0/8").contains(addr("[::ffff:10.9.8.7]:21")));
  EXPECT_FALSE(net("10.0.0.0/8").contains(addr("[::ffff:11.9.8.7]:21")));
  EXPECT_TRUE(net("::ffff:10.0.0.0/104").contains(addr("10.3.2.1:21")));
  EXPECT_TRUE(net("10.0.0.0/8").contains_ip("::ffff:10.1.1.1"));
  EXPECT_TRUE(net("10.0.0.0/8").contains_ip("10.1.1.1"));
  EXPECT_FALSE(net("10.0.0.0/8").contains_ip("not an ip"));
}

TEST(IpNetwork, RejectsBadInput) {
  for (const char* bad : {
           "",                // nothing
           "/8",              // no address
           "10.0.0.0/",       // no prefix
           "10.0.0.0/33",     // too long for IPv4
           "::/129",          // too long for IPv6
           "10.0.0.0/-1",     // sign
           "10.0.0.0/+8",     // sign
           "10.0.0.0/08x",    // junk
           "10.0.0.0/0008",   // four digits
           "10.0.0.1/8",      // host bits set
           "2001:db8::1/32",  // host bits set
           "10.0.0",          // short
           "10.0.0.256",      // byte > 255
           " 10.0.0.0/8",     // space
           "10.0.0.0/8 ",     // space
           "10.0.0.0/8/8",    // two prefixes
           "localhost",       // names are not networks
           "[::1]/128",       // brackets
           "10.0.0.0:21",     // port
       }) {
    EXPECT_FALSE(IpNetwork::parse(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(IpNetwork, AnyContains) {
  const std::vector<IpNetwork> list = {net("10.0.0.0/8"), net("::1")};
  EXPECT_TRUE(any_contains(list, addr("10.2.2.2:1")));
  EXPECT_TRUE(any_contains(list, addr("[::1]:1")));
  EXPECT_FALSE(any_contains(list, addr("127.0.0.1:1")));
  EXPECT_FALSE(any_contains({}, addr("127.0.0.1:1")));
}

}  // namespace
}  // namespace muxio::ftpd
