#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ftp/reply.hpp"

namespace muxio::ftp {
namespace {

TEST(FtpFormatReply, SingleLine) {
  EXPECT_EQ(format_reply(230, "Login successful."), "230 Login successful.\r\n");
  EXPECT_EQ(format_reply(200, ""), "200 \r\n");
}

TEST(FtpFormatReply, TrailingNewlinesIgnored) {
  EXPECT_EQ(format_reply(226, "Done.\n"), "226 Done.\r\n");
  EXPECT_EQ(format_reply(226, "Done.\n\n"), "226 Done.\r\n");
}

TEST(FtpFormatReply, MultiLineFraming) {
  EXPECT_EQ(format_reply(211, "first\nmiddle\nlast"), "211-first\r\nmiddle\r\n211 last\r\n");
  EXPECT_EQ(format_reply(214, "a\nb"), "214-a\r\n214 b\r\n");
}

TEST(FtpFormatReply, MiddleLineStartingWithDigitIsIndented) {
  // Without the space, "211 fake" would end the reply early in the client.
  EXPECT_EQ(format_reply(211, "status\n211 fake end\n5 files\nend"),
            "211-status\r\n 211 fake end\r\n 5 files\r\n211 end\r\n");
}

TEST(FtpFormatReply, EmptyMiddleLineIsIndented) {
  EXPECT_EQ(format_reply(211, "a\n\nb"), "211-a\r\n \r\n211 b\r\n");
}

TEST(FtpFormatReply, CrAndNulRemoved) {
  EXPECT_EQ(format_reply(550, std::string("no\rsuch\0file", 12)), "550 nosuchfile\r\n");
  // A CRLF inside the text is a line break: the injected "200" stays behind the real code.
  EXPECT_EQ(format_reply(550, "x\r\n200 OK"), "550-x\r\n550 200 OK\r\n");
}

TEST(FtpFormatReply, CrlfInjectionCannotForgeAReply) {
  // An attacker-controlled file name echoed in a reply.
  std::string out = format_reply(550, "Can't open \"evil\r\n230 Logged in\": no such file");
  // Exactly one final line, and it is the last one.
  EXPECT_EQ(out, "550-Can't open \"evil\r\n550 230 Logged in\": no such file\r\n");
  EXPECT_EQ(out.find("\r\n230"), std::string::npos);
}

TEST(FtpFormatReply, MiddleLineStartingWithSpaceKept) {
  EXPECT_EQ(format_reply(211, "a\n  indented\nz"), "211-a\r\n  indented\r\n211 z\r\n");
}

TEST(FtpFormatMultiline, FeatReply) {
  std::vector<std::string> body = {" EPRT", " EPSV", " MDTM", " MLST type*;size*;modify*;",
                                   " UTF8"};
  EXPECT_EQ(format_multiline(211, "Features:", body, "End"),
            "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n MLST type*;size*;modify*;\r\n UTF8\r\n"
            "211 End\r\n");
}

TEST(FtpFormatMultiline, EmptyBody) {
  EXPECT_EQ(format_multiline(211, "Features:", {}, "End"), "211-Features:\r\n211 End\r\n");
}

TEST(FtpFormatMultiline, DigitOrEmptyBodyLinesIndented) {
  EXPECT_EQ(format_multiline(214, "Help", {"250 fake", "", "USER PASS"}, "ok"),
            "214-Help\r\n 250 fake\r\n \r\nUSER PASS\r\n214 ok\r\n");
}

TEST(FtpFormatMultiline, EachElementStaysOneLine) {
  EXPECT_EQ(format_multiline(250, "a\nb", {"x\r\n226 y", std::string("n\0ul", 4)}, "l\r\nm"),
            "250-a b\r\nx 226 y\r\nnul\r\n250 l m\r\n");
}

TEST(FtpFormatMultiline, MlstBodyLineKeepsItsLeadingSpace) {
  EXPECT_EQ(format_multiline(250, "Listing /f", {" type=file;size=1; f"}, "End"),
            "250-Listing /f\r\n type=file;size=1; f\r\n250 End\r\n");
}

}  // namespace
}  // namespace muxio::ftp
