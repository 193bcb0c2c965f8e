#include <gtest/gtest.h>

#include <string>

#include "ftp/proxy_header.hpp"

namespace muxio::ftp {
namespace {

using Status = ProxyParse::Status;
using namespace std::string_literals;

const std::string kSig = "\r\n\r\n\0\r\nQUIT\n"s;

ProxyHeader tcp(std::string_view src, std::string_view dst) {
  ProxyHeader h;
  h.has_addresses = true;
  h.source = SocketAddress::parse(src).value();
  h.destination = SocketAddress::parse(dst).value();
  return h;
}

TEST(ProxyV1, Tcp4) {
  const std::string line = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 21\r\n";
  auto p = parse_proxy_header(line + "USER x\r\n");
  ASSERT_EQ(p.status, Status::complete) << p.error;
  EXPECT_EQ(p.header.version, 1);
  EXPECT_TRUE(p.header.has_addresses);
  EXPECT_EQ(p.header.source.to_string(), "192.0.2.1:56324");
  EXPECT_EQ(p.header.destination.to_string(), "198.51.100.2:21");
  EXPECT_EQ(p.header.size, line.size());
  EXPECT_EQ(format_proxy_v1(p.header), line);
}

TEST(ProxyV1, Tcp6AndUnknown) {
  auto p = parse_proxy_header("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n");
  ASSERT_EQ(p.status, Status::complete) << p.error;
  EXPECT_EQ(p.header.source.to_string(), "[2001:db8::1]:65535");
  EXPECT_EQ(p.header.destination.to_string(), "[::1]:0");

  for (const char* u : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n"}) {
    auto q = parse_proxy_header(u);
    ASSERT_EQ(q.status, Status::complete) << u;
    EXPECT_FALSE(q.header.has_addresses);
    EXPECT_EQ(q.header.size, std::string_view(u).size());
  }
}

TEST(ProxyV1, LongestLineFits) {
  const std::string ip = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string tcp6 = "PROXY TCP6 " + ip + " " + ip + " 65535 65535\r\n";
  EXPECT_EQ(parse_proxy_header(tcp6).status, Status::complete);
  const std::string line = "PROXY UNKNOWN " + ip + " " + ip + " 65535 65535\r\n";
  ASSERT_EQ(line.size(), kProxyV1MaxLine);
  EXPECT_EQ(parse_proxy_header(line).status, Status::complete);
  // UNKNOWN with padding past 107 bytes: oversized.
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN " + std::string(100, 'x') + "\r\n").status,
            Status::invalid);
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN " + std::string(100, 'x')).status, Status::invalid);
}

TEST(ProxyV1, RejectsMalformed) {
  for (const char* bad : {
           "GET / HTTP/1.0\r\n",
           "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",        // bare LF
           "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rx",       // CR without LF
           "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",      // protocol
           "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",        // missing field
           "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",    // extra field
           "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",     // double space
           "PROXY TCP4 ::1 ::1 1 2\r\n",              // family mismatch
           "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",      // family mismatch
           "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",  // port range
           "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",     // leading zero
           "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",     // sign
           "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",    // byte
           "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",     // trailing space
           "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n",     // tab
           "PROXY \r\n",                              // nothing
           "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",      // case
       }) {
    auto p = parse_proxy_header(bad);
    EXPECT_EQ(p.status, Status::invalid) << bad;
    EXPECT_FALSE(p.error.empty());
  }
}

TEST(ProxyV1, IncompleteUntilCrlf) {
  const std::string line = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 21\r\n";
  for (std::size_t n = 0; n < line.size(); ++n) {
    EXPECT_EQ(parse_proxy_header(line.substr(0, n)).status, Status::incomplete) << n;
  }
}

TEST(ProxyV2, Tcp4WithTlvs) {
  std::string h = format_proxy_v2(tcp("192.0.2.1:56324", "198.51.100.2:21"));
  ASSERT_EQ(h.size(), 28u);
  EXPECT_EQ(h.substr(0, 12), kSig);
  // Append a TLV (type 0x04 NOOP, length 3) and fix the length.
  h += "\x04\x00\x03"s + "abc";
  h[15] = static_cast<char>(12 + 6);
  auto p = parse_proxy_header(h + "rest");
  ASSERT_EQ(p.status, Status::complete) << p.error;
  EXPECT_EQ(p.header.version, 2);
  EXPECT_EQ(p.header.size, h.size());
  EXPECT_EQ(p.header.source.to_string(), "192.0.2.1:56324");
  EXPECT_EQ(p.header.destination.to_string(), "198.51.100.2:21");
}

TEST(ProxyV2, Tcp6) {
  const std::string h = format_proxy_v2(tcp("[2001:db8::5]:4000", "[::1]:990"));
  ASSERT_EQ(h.size(), 52u);
  auto p = parse_proxy_header(h);
  ASSERT_EQ(p.status, Status::complete) << p.error;
  EXPECT_EQ(p.header.source.to_string(), "[2001:db8::5]:4000");
  EXPECT_EQ(p.header.destination.to_string(), "[::1]:990");
}

TEST(ProxyV2, LocalAndUnspecHaveNoAddresses) {
  const std::string local = format_proxy_v2(ProxyHeader{});
  ASSERT_EQ(local.size(), 16u);
  auto p = parse_proxy_header(local);
  ASSERT_EQ(p.status, Status::complete);
  EXPECT_FALSE(p.header.has_addresses);
  // LOCAL with an address block: the block is skipped.
  std::string local4 = format_proxy_v2(tcp("1.2.3.4:1", "5.6.7.8:2"));
  local4[12] = '\x20';
  p = parse_proxy_header(local4);
  ASSERT_EQ(p.status, Status::complete);
  EXPECT_FALSE(p.header.has_addresses);
  EXPECT_EQ(p.header.size, 28u);
  // PROXY, UNSPEC.
  const std::string unspec = kSig + "\x21\x00\x00\x00"s;
  p = parse_proxy_header(unspec);
  ASSERT_EQ(p.status, Status::complete);
  EXPECT_FALSE(p.header.has_addresses);
}

TEST(ProxyV2, RejectsMalformed) {
  const std::string good = format_proxy_v2(tcp("1.2.3.4:1", "5.6.7.8:2"));
  auto with = [&](std::size_t i, char c) {
    std::string s = good;
    s[i] = c;
    return s;
  };
  for (const std::string& bad : {
           with(0, 'x'),                // signature
           with(11, 'x'),               // signature
           with(12, '\x11'),            // version 1 in binary form
           with(12, '\x22'),            // command 2
           with(13, '\x41'),            // family 4
           with(13, '\x13'),            // transport 3
           with(13, '\x12'),            // UDP
           with(15, '\x08'),            // IPv4 block too short
           with(13, '\x21'),            // IPv6 with a 12-byte block
           kSig + "\x21\x11\x04\x01"s,  // longer than the limit (1025)
           kSig + "\x21\x11\xff\xff"s,  // longer than the limit
       }) {
    EXPECT_EQ(parse_proxy_header(bad).status, Status::invalid);
  }
}

TEST(ProxyV2, IncompleteUntilLength) {
  const std::string h = format_proxy_v2(tcp("[2001:db8::5]:4000", "[::1]:990"));
  for (std::size_t n = 0; n < h.size(); ++n) {
    EXPECT_EQ(parse_proxy_header(h.substr(0, n)).status, Status::incomplete) << n;
  }
}

// Reading what proxy_header_wanted() asks for never reads past the header, and reaches it.
void read_in_steps(const std::string& header) {
  const std::string stream = header + "\x16\x03\x01 TLS hello or FTP bytes";
  std::string got;
  while (true) {
    const auto want = proxy_header_wanted(got);
    if (want == 0) break;
    ASSERT_LE(got.size() + want, header.size()) << header;
    got += stream.substr(got.size(), want);
  }
  EXPECT_EQ(got, header);
  EXPECT_EQ(parse_proxy_header(got).status, Status::complete);
}

TEST(ProxyHeader, WantedNeverOverreads) {
  read_in_steps("PROXY UNKNOWN\r\n");
  read_in_steps("PROXY TCP4 192.0.2.1 198.51.100.2 56324 21\r\n");
  read_in_steps("PROXY TCP6 ::1 ::1 1 2\r\n");
  read_in_steps(format_proxy_v2(ProxyHeader{}));
  read_in_steps(format_proxy_v2(tcp("1.2.3.4:1", "5.6.7.8:2")));
  read_in_steps(format_proxy_v2(tcp("[::1]:1", "[::2]:2")));
  EXPECT_EQ(proxy_header_wanted("GET"), 0u);
}

}  // namespace
}  // namespace muxio::ftp
