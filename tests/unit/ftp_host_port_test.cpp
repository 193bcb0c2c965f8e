#include <gtest/gtest.h>

#include <string>

#include "ftp/host_port.hpp"

namespace muxio::ftp {
namespace {

SocketAddress addr(std::string_view host_port) {
  return SocketAddress::parse(host_port).value();
}

TEST(FtpPortArg, ParsesAddressAndPort) {
  auto a = parse_port_arg("127,0,0,1,19,137");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->is_v6());
  EXPECT_EQ(a->ip(), "127.0.0.1");
  EXPECT_EQ(a->port(), 19 * 256 + 137);

  auto b = parse_port_arg("192,168,1,254,255,255");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->to_string(), "192.168.1.254:65535");
  EXPECT_EQ(parse_port_arg("0,0,0,0,0,1")->to_string(), "0.0.0.0:1");
}

TEST(FtpPortArg, LeadingZerosWithinThreeDigitsAccepted) {
  EXPECT_EQ(parse_port_arg("010,000,0,001,004,000")->to_string(), "10.0.0.1:1024");
}

TEST(FtpPortArg, RejectsMalformed) {
  for (const char* bad : {
           "",                    // nothing
           "127,0,0,1,19",        // missing field
           "127,0,0,1,19,137,1",  // extra field
           "256,0,0,1,19,137",    // byte > 255
           "127,0,0,1,256,0",     // port byte > 255
           "127,0,0,1,19,1000",   // four digits
           "127,0,0,1,-1,137",    // negative
           "127,0,0,1,+1,137",    // sign
           "127,0,0,1,19,137x",   // trailing junk
           "127,0,0,1,19,137 ",   // trailing space
           " 127,0,0,1,19,137",   // leading space
           "127, 0,0,1,19,137",   // space after comma
           "127,,0,1,19,137",     // empty field
           "127,0,0,1,19,",       // empty last field
           ",127,0,0,1,19",       // empty first field
           "127.0.0.1,19,137",    // dots
           "0x7f,0,0,1,19,137",   // hex
           "127,0,0,1,0,0",       // port 0
           "0127,0,0,1,19,137",   // four digits with a leading zero
       }) {
    auto r = parse_port_arg(bad);
    EXPECT_FALSE(r.ok()) << '"' << bad << '"';
    if (!r.ok()) {
      EXPECT_EQ(r.error(), make_error_code(Error::bad_address));
    }
  }
}

TEST(FtpPortArg, NulInsideIsRefused) {
  EXPECT_FALSE(parse_port_arg(std::string("127,0,0,1,19,13\0", 16)).ok());
}

TEST(FtpEprtArg, ParsesIpv4AndIpv6) {
  auto a = parse_eprt_arg("|1|132.235.1.2|6275|");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->is_v6());
  EXPECT_EQ(a->to_string(), "132.235.1.2:6275");

  auto b = parse_eprt_arg("|2|1080::8:800:200C:417A|5282|");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->is_v6());
  EXPECT_EQ(b->port(), 5282);
  EXPECT_EQ(b->ip(), "1080::8:800:200c:417a");

  EXPECT_EQ(parse_eprt_arg("|2|::1|65535|")->to_string(), "[::1]:65535");
}

TEST(FtpEprtArg, OtherDelimiters) {
  EXPECT_EQ(parse_eprt_arg("!1!10.0.0.1!21!")->to_string(), "10.0.0.1:21");
  EXPECT_EQ(parse_eprt_arg("#2#::1#21#")->to_string(), "[::1]:21");
  EXPECT_EQ(parse_eprt_arg("~1~10.0.0.1~21~")->to_string(), "10.0.0.1:21");
  // '.' cannot delimit an IPv4 address, nor ':' an IPv6 one.
  EXPECT_FALSE(parse_eprt_arg(".1.10.0.0.1.21.").ok());
  EXPECT_FALSE(parse_eprt_arg(":2:::1:21:").ok());
  // Delimiters outside 33..126.
  EXPECT_FALSE(parse_eprt_arg(" 1 10.0.0.1 21 ").ok());
  EXPECT_FALSE(parse_eprt_arg("\x7f"
                              "1\x7f"
                              "10.0.0.1\x7f"
                              "21\x7f")
                   .ok());
  EXPECT_FALSE(parse_eprt_arg("\xc2"
                              "1\xc2"
                              "10.0.0.1\xc2"
                              "21\xc2")
                   .ok());
}

TEST(FtpEprtArg, MismatchedFamily) {
  EXPECT_FALSE(parse_eprt_arg("|1|::1|21|").ok());
  EXPECT_FALSE(parse_eprt_arg("|2|10.0.0.1|21|").ok());
  EXPECT_FALSE(parse_eprt_arg("|3|10.0.0.1|21|").ok());
  EXPECT_FALSE(parse_eprt_arg("||10.0.0.1|21|").ok());
  EXPECT_FALSE(parse_eprt_arg("|01|10.0.0.1|21|").ok());
}

TEST(FtpEprtArg, BadPort) {
  for (const char* bad : {"|1|10.0.0.1|0|", "|1|10.0.0.1|65536|", "|1|10.0.0.1|-1|",
                          "|1|10.0.0.1||", "|1|10.0.0.1|21x|", "|1|10.0.0.1| 21|",
                          "|1|10.0.0.1|000021|", "|1|10.0.0.1|99999999999|"}) {
    EXPECT_FALSE(parse_eprt_arg(bad).ok()) << bad;
  }
}

TEST(FtpEprtArg, BadStructureOrAddress) {
  for (const char* bad :
       {"", "|", "||", "|1|10.0.0.1|21", "1|10.0.0.1|21|", "|1|10.0.0.1|21||", "|1|10.0.0.1|21|x",
        "|1|10.0.0.1|21|21|", "|1|localhost|21|", "|1|*|21|", "|1||21|", "|1|10.0.0.256|21|",
        "|1|10.0.0|21|", "|2|::1%lo|21|", "|2|[::1]|21|", "|1| 10.0.0.1|21|"}) {
    EXPECT_FALSE(parse_eprt_arg(bad).ok()) << bad;
  }
}

TEST(FtpPasv, ReplyText) {
  EXPECT_EQ(format_pasv_reply_text(addr("127.0.0.1:5001")),
            "Entering Passive Mode (127,0,0,1,19,137)");
  EXPECT_EQ(format_pasv_reply_text(addr("10.1.2.3:65535")),
            "Entering Passive Mode (10,1,2,3,255,255)");
}

TEST(FtpPasv, Ipv4MappedUsesTheIpv4Address) {
  auto mapped = addr("[::ffff:192.0.2.7]:1024");
  EXPECT_TRUE(has_ipv4_form(mapped));
  EXPECT_EQ(format_pasv_reply_text(mapped), "Entering Passive Mode (192,0,2,7,4,0)");
}

TEST(FtpPasv, PureIpv6HasNoPasvForm) {
  auto v6 = addr("[2001:db8::1]:21");
  EXPECT_FALSE(has_ipv4_form(v6));
  EXPECT_EQ(format_pasv_reply_text(v6), "");
  EXPECT_EQ(format_port_arg(v6), "");
}

TEST(FtpEpsv, ReplyText) {
  EXPECT_EQ(format_epsv_reply_text(5000), "Entering Extended Passive Mode (|||5000|)");
  EXPECT_EQ(format_epsv_reply_text(65535), "Entering Extended Passive Mode (|||65535|)");
}

TEST(FtpHostPort, FormatAndParseRoundTrip) {
  for (const char* s : {"127.0.0.1:5001", "0.0.0.0:1", "255.255.255.255:65535"}) {
    auto a = addr(s);
    auto port = parse_port_arg(format_port_arg(a));
    ASSERT_TRUE(port.ok()) << s;
    EXPECT_EQ(port->to_string(), s);
    auto eprt = parse_eprt_arg(format_eprt_arg(a));
    ASSERT_TRUE(eprt.ok()) << s;
    EXPECT_EQ(eprt->to_string(), s);
  }
  for (const char* s : {"[::1]:21", "[2001:db8::8:800:200c:417a]:40000", "[::ffff:1.2.3.4]:80"}) {
    auto eprt = parse_eprt_arg(format_eprt_arg(addr(s)));
    ASSERT_TRUE(eprt.ok()) << s;
    EXPECT_EQ(eprt->to_string(), s);
  }
  EXPECT_EQ(format_eprt_arg(addr("[::1]:21")), "|2|::1|21|");
  EXPECT_EQ(format_eprt_arg(addr("10.0.0.1:21")), "|1|10.0.0.1|21|");
}

}  // namespace
}  // namespace muxio::ftp
