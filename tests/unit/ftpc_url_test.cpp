// URLs, percent-decoding, .netrc and globs of the client.
#include <gtest/gtest.h>

#include "ftpc/url.hpp"

using namespace muxio::ftpc;

TEST(PercentDecode, DecodesAndRefuses) {
  EXPECT_EQ(percent_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(percent_decode("%e2%82%AC"), "\xe2\x82\xac");
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%2"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("a%00b"));
}

TEST(ParseUrl, Full) {
  std::string err;
  auto u = parse_url("ftp://al%40ice:p%3Ass@example.org:2121/dir/my%20file.iso", &err);
  ASSERT_TRUE(u) << err;
  EXPECT_EQ(u->user, "al@ice");
  EXPECT_EQ(u->password, "p:ss");
  EXPECT_TRUE(u->has_password);
  EXPECT_EQ(u->host, "example.org");
  EXPECT_EQ(u->port, 2121);
  EXPECT_EQ(u->path, "dir/my file.iso");
  EXPECT_EQ(u->display(), "ftp://al%40ice@example.org:2121/dir/my%20file.iso");
}

TEST(ParseUrl, DefaultsIpv6AndAbsolute) {
  std::string err;
  auto u = parse_url("FTP://[::1]", &err);
  ASSERT_TRUE(u) << err;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 21);
  EXPECT_EQ(u->path, "");
  EXPECT_TRUE(u->user.empty());
  EXPECT_FALSE(u->has_password);
  auto p = parse_url("ftp://h:21/%2Fetc/x;type=i", &err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->path, "/etc/x");
  auto d = parse_url("ftp://h/dir/", &err);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->path, "dir/");
  auto empty_pw = parse_url("ftp://u:@h/", &err);
  ASSERT_TRUE(empty_pw);
  EXPECT_TRUE(empty_pw->has_password);
  EXPECT_EQ(empty_pw->password, "");
}

TEST(ParseUrl, Refuses) {
  std::string err;
  EXPECT_FALSE(parse_url("http://h/", &err));
  EXPECT_FALSE(parse_url("ftp://", &err));
  EXPECT_FALSE(parse_url("ftp://h:0/", &err));
  EXPECT_FALSE(parse_url("ftp://h:65536/", &err));
  EXPECT_FALSE(parse_url("ftp://h:2x/", &err));
  EXPECT_FALSE(parse_url("ftp://[::1/", &err));
  EXPECT_FALSE(parse_url("ftp://h/a%0d%0aDELE%20b", &err));
  EXPECT_FALSE(parse_url("ftp://h/%zz", &err));
  EXPECT_FALSE(err.empty());
}

TEST(Netrc, MachineThenDefault) {
  std::string text =
      "machine other login o password op\n"
      "machine example.org\n  login alice\n  password s3cret\n"
      "default login anonymous password me@\n";
  auto a = netrc_lookup(text, "example.org");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->login, "alice");
  EXPECT_EQ(a->password, "s3cret");
  auto d = netrc_lookup(text, "nowhere");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->login, "anonymous");
  EXPECT_FALSE(netrc_lookup("machine x login y password z", "nowhere"));
  EXPECT_FALSE(netrc_lookup("", "x"));
}

TEST(Glob, MatchesLastSegment) {
  EXPECT_TRUE(has_glob("*.iso"));
  EXPECT_TRUE(has_glob("f?.bin"));
  EXPECT_TRUE(has_glob("[ab].txt"));
  EXPECT_FALSE(has_glob("plain.txt"));
  EXPECT_TRUE(glob_match("*.iso", "debian.iso"));
  EXPECT_FALSE(glob_match("*.iso", ".hidden.iso"));
  EXPECT_FALSE(glob_match("*.iso", "debian.iso.part"));
  EXPECT_TRUE(glob_match("f[0-9].bin", "f7.bin"));
}

TEST(Paths, SplitAndJoin) {
  EXPECT_EQ(split_dir("a/b/c"), std::make_pair(std::string("a/b"), std::string("c")));
  EXPECT_EQ(split_dir("c"), std::make_pair(std::string(""), std::string("c")));
  EXPECT_EQ(split_dir("/c"), std::make_pair(std::string("/"), std::string("c")));
  EXPECT_EQ(split_dir("d/"), std::make_pair(std::string("d"), std::string("")));
  EXPECT_EQ(join_path("", "x"), "x");
  EXPECT_EQ(join_path("a", "x"), "a/x");
  EXPECT_EQ(join_path("a/", "x"), "a/x");
  EXPECT_EQ(join_path("/", "x"), "/x");
}

TEST(Credentials, UrlThenNetrcThenPromptThenAnonymous) {
  std::string err;
  const std::string netrc = "machine h login carol password c4rol\ndefault login anon password x\n";
  auto c = credentials_for(*parse_url("ftp://bob:pw@h/", &err), netrc);
  EXPECT_EQ(c.user, "bob");
  EXPECT_EQ(c.password, "pw");
  EXPECT_FALSE(c.ask_password);
  c = credentials_for(*parse_url("ftp://h/", &err), netrc);
  EXPECT_EQ(c.user, "carol");
  EXPECT_EQ(c.password, "c4rol");
  c = credentials_for(*parse_url("ftp://carol@h/", &err), netrc);
  EXPECT_EQ(c.password, "c4rol");
  EXPECT_FALSE(c.ask_password);
  c = credentials_for(*parse_url("ftp://bob@h/", &err), netrc);  // netrc names someone else
  EXPECT_EQ(c.user, "bob");
  EXPECT_TRUE(c.ask_password);
  c = credentials_for(*parse_url("ftp://other/", &err), "");
  EXPECT_EQ(c.user, "");
  EXPECT_FALSE(c.ask_password);
}

namespace muxio::ftpc {
namespace {

TEST(UrlSchemes, FtpsIsImplicitOnPort990AndFtpesExplicit) {
  std::string error;
  auto plain = parse_url("ftp://h/x", &error);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->security, Url::Security::plain);
  auto implicit = parse_url("FTPS://u@h/x", &error);
  ASSERT_TRUE(implicit);
  EXPECT_EQ(implicit->security, Url::Security::implicit_tls);
  EXPECT_EQ(implicit->port, 990);
  EXPECT_EQ(implicit->display(), "ftps://u@h/x");
  auto explicit_tls = parse_url("ftpes://h:2121/", &error);
  ASSERT_TRUE(explicit_tls);
  EXPECT_EQ(explicit_tls->security, Url::Security::explicit_tls);
  EXPECT_EQ(explicit_tls->port, 2121);
  EXPECT_EQ(explicit_tls->display(), "ftpes://h:2121/");
  EXPECT_FALSE(parse_url("http://h/", &error));
  EXPECT_FALSE(parse_url("ftpx://h/", &error));
  EXPECT_FALSE(parse_url("ftps:/", &error));
}

}  // namespace
}  // namespace muxio::ftpc
