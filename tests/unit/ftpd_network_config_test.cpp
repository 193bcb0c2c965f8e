#include <gtest/gtest.h>

#include "ftpd/network_config.hpp"

namespace muxio::ftpd {
namespace {

SocketAddress addr(std::string_view host_port) {
  return SocketAddress::parse(host_port).value();
}

NetworkSettings with_overrides() {
  NetworkSettings n;
  n.passive_address = "203.0.113.5";
  n.passive_overrides.push_back({*IpNetwork::parse("10.0.0.0/8"), "10.0.0.5", {}});
  std::string error;
  EXPECT_TRUE(resolve_passive_addresses(n, &error)) << error;
  return n;
}

TEST(PassiveAddress, OverrideThenAddressThenProxyThenLocal) {
  const auto n = with_overrides();
  const auto local = addr("192.168.1.2:21");
  EXPECT_EQ(passive_ip_for(n, addr("10.1.1.1:5000"), local, std::nullopt)->ip(), "10.0.0.5");
  EXPECT_EQ(passive_ip_for(n, addr("[::ffff:10.1.1.1]:5000"), local, std::nullopt)->ip(),
            "10.0.0.5");
  EXPECT_EQ(passive_ip_for(n, addr("198.51.100.1:5000"), local, std::nullopt)->ip(), "203.0.113.5");

  NetworkSettings plain;
  EXPECT_EQ(passive_ip_for(plain, addr("1.2.3.4:1"), local, addr("198.51.100.4:21"))->ip(),
            "198.51.100.4");
  EXPECT_EQ(passive_ip_for(plain, addr("1.2.3.4:1"), local, std::nullopt)->ip(), "192.168.1.2");
  // An IPv6 destination and an IPv6 local address: nothing PASV can say.
  EXPECT_FALSE(passive_ip_for(plain, addr("1.2.3.4:1"), addr("[::1]:21"), addr("[::2]:21")));
}

TEST(PassiveAddress, NamesResolve) {
  NetworkSettings n;
  n.passive_address = "localhost";
  std::string error;
  ASSERT_TRUE(resolve_passive_addresses(n, &error)) << error;
  EXPECT_EQ(n.passive_ip, "127.0.0.1");
  n.passive_address = "no-such-host.invalid";
  EXPECT_FALSE(resolve_passive_addresses(n, &error));
  EXPECT_NE(error.find("passive_address"), std::string::npos);
}

TEST(PassiveAddress, PortOffset) {
  NetworkSettings n;
  EXPECT_EQ(advertised_passive_port(n, 50000), 50000);
  n.passive_port_offset = 10000;
  EXPECT_EQ(advertised_passive_port(n, 50000), 60000);
  n.passive_port_offset = -49000;
  EXPECT_EQ(advertised_passive_port(n, 50000), 1000);
}

TEST(NetworkValidation, NamesTheKey) {
  std::string error;
  NetworkSettings n;
  EXPECT_TRUE(validate_network(n, {"127.0.0.1:21"}, 0, 0, &error));

  n.proxy_protocol = ProxyMode::required;
  EXPECT_FALSE(validate_network(n, {"127.0.0.1:21"}, 0, 0, &error));
  EXPECT_NE(error.find("proxy_trusted_networks"), std::string::npos);
  n.proxy_trusted_networks.push_back(*IpNetwork::parse("127.0.0.1"));
  EXPECT_TRUE(validate_network(n, {"127.0.0.1:21"}, 0, 0, &error)) << error;

  n.proxy_listeners.emplace_back("127.0.0.1:990", ProxyMode::required);
  EXPECT_FALSE(validate_network(n, {"127.0.0.1:21"}, 0, 0, &error));
  EXPECT_NE(error.find("127.0.0.1:990"), std::string::npos);
  EXPECT_TRUE(validate_network(n, {"127.0.0.1:21", "127.0.0.1:990"}, 0, 0, &error));
  EXPECT_EQ(proxy_mode_for(n, "127.0.0.1:990"), ProxyMode::required);

  NetworkSettings p;
  p.passive_address = "2001:db8::1";
  EXPECT_FALSE(validate_network(p, {}, 0, 0, &error));
  EXPECT_NE(error.find("passive_address"), std::string::npos);

  NetworkSettings o;
  o.passive_port_offset = 100;
  EXPECT_FALSE(validate_network(o, {}, 0, 0, &error));
  EXPECT_NE(error.find("passive_port_offset"), std::string::npos);
  EXPECT_TRUE(validate_network(o, {}, 50000, 50099, &error));
  EXPECT_FALSE(validate_network(o, {}, 65000, 65499, &error));
}

TEST(ProxyMode, Parses) {
  ProxyMode m{};
  EXPECT_TRUE(parse_proxy_mode("optional", m));
  EXPECT_EQ(m, ProxyMode::optional);
  EXPECT_TRUE(parse_proxy_mode("off", m));
  EXPECT_EQ(m, ProxyMode::off);
  EXPECT_FALSE(parse_proxy_mode("on", m));
  EXPECT_FALSE(parse_proxy_mode("", m));
}

}  // namespace
}  // namespace muxio::ftpd
