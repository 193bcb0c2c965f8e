#include <gtest/gtest.h>

#include <string>

#include "ftp/command.hpp"

namespace muxio::ftp {
namespace {

const std::string kIac = "\xff";

Command parsed(std::string_view line) {
  auto r = parse_command(line);
  if (!std::holds_alternative<Command>(r)) {
    ADD_FAILURE() << "did not parse: " << line;
    return {};
  }
  return std::get<Command>(r);
}

ParseError failed(std::string_view line) {
  auto r = parse_command(line);
  if (!std::holds_alternative<ParseError>(r)) {
    ADD_FAILURE() << "parsed but should not: " << line;
    return ParseError::empty;
  }
  return std::get<ParseError>(r);
}

TEST(FtpStripTelnet, PlainTextUnchanged) {
  EXPECT_EQ(strip_telnet("RETR file.txt"), "RETR file.txt");
  EXPECT_EQ(strip_telnet(""), "");
  EXPECT_EQ(strip_telnet("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 (RFC 2640) has no 0xFF byte
}

TEST(FtpStripTelnet, IacIacIsALiteralFf) {
  EXPECT_EQ(strip_telnet("a" + kIac + kIac + "b"),
            "a\xff"
            "b");
  EXPECT_EQ(strip_telnet(kIac + kIac + kIac + kIac), "\xff\xff");
}

TEST(FtpStripTelnet, InterruptAndSynchBeforeAbortAreDropped) {
  // IAC IP, IAC DM, then ABOR: what RFC 959 §4.1.3 tells clients to send.
  EXPECT_EQ(strip_telnet(kIac + "\xf4" + kIac + "\xf2" + "ABOR"), "ABOR");
}

TEST(FtpStripTelnet, EveryTwoByteCommandIsDropped) {
  for (int cmd = 240; cmd <= 249; ++cmd) {  // SE NOP DM BRK IP AO AYT EC EL GA
    std::string line = "NO" + kIac + static_cast<char>(cmd) + "OP";
    EXPECT_EQ(strip_telnet(line), "NOOP") << cmd;
  }
}

TEST(FtpStripTelnet, OptionNegotiationDropsThreeBytes) {
  for (int verb = 251; verb <= 254; ++verb) {  // WILL WONT DO DONT
    std::string line = kIac + static_cast<char>(verb) + "\x01" + "PWD";
    EXPECT_EQ(strip_telnet(line), "PWD") << verb;
  }
  // The option byte is dropped even when it looks like a letter or is IAC.
  EXPECT_EQ(strip_telnet(kIac + "\xfb" + "XPWD"), "PWD");
  EXPECT_EQ(strip_telnet(kIac + "\xfd" + kIac + "PWD"), "PWD");
}

TEST(FtpStripTelnet, SubnegotiationDroppedUpToIacSe) {
  EXPECT_EQ(strip_telnet("A" + kIac + "\xfa" + "\x18xyz" + kIac + "\xf0" + "B"), "AB");
  // IAC IAC inside a subnegotiation does not end it.
  EXPECT_EQ(strip_telnet("A" + kIac + "\xfa" + kIac + kIac + "\xf0" + kIac + "\xf0" + "B"), "AB");
  // Unterminated: the rest is dropped.
  EXPECT_EQ(strip_telnet("A" + kIac + "\xfa" + "abc"), "A");
}

TEST(FtpStripTelnet, TruncatedSequencesAtTheEnd) {
  EXPECT_EQ(strip_telnet("NOOP" + kIac), "NOOP");
  EXPECT_EQ(strip_telnet("NOOP" + kIac + "\xfb"), "NOOP");
  EXPECT_EQ(strip_telnet(kIac), "");
}

TEST(FtpStripTelnet, UndefinedCommandByteDroppedWithIac) {
  EXPECT_EQ(strip_telnet("A" + kIac + "Bx"), "Ax");
}

TEST(FtpParseCommand, VerbIsUpperCasedAndArgKeptVerbatim) {
  auto c = parsed("retr My File.txt");
  EXPECT_EQ(c.verb, "RETR");
  EXPECT_EQ(c.arg, "My File.txt");

  c = parsed("StOr  two leading spaces ");
  EXPECT_EQ(c.verb, "STOR");
  EXPECT_EQ(c.arg, " two leading spaces ");  // only the separating space is removed
}

TEST(FtpParseCommand, VerbWithoutArgument) {
  auto c = parsed("PWD");
  EXPECT_EQ(c.verb, "PWD");
  EXPECT_EQ(c.arg, "");
  c = parsed("NOOP ");
  EXPECT_EQ(c.verb, "NOOP");
  EXPECT_EQ(c.arg, "");
}

TEST(FtpParseCommand, VerbsWithDigitsAndXAliases) {
  EXPECT_EQ(parsed("XMKD d").verb, "XMKD");
  EXPECT_EQ(parsed("mlsd").verb, "MLSD");
  EXPECT_EQ(parsed("xcup").verb, "XCUP");
  EXPECT_EQ(parsed("a1b2 c").verb, "A1B2");
}

TEST(FtpParseCommand, VerbLengthOneToEight) {
  EXPECT_EQ(parsed("A").verb, "A");
  EXPECT_EQ(parsed("ABCDEFG8 x").verb, "ABCDEFG8");
  EXPECT_EQ(failed("ABCDEFGHI x"), ParseError::bad_verb);
}

TEST(FtpParseCommand, BadVerbs) {
  for (const char* line :
       {" USER x", "US-ER x", "USER\tx", "USER:x", "\xc3\xa9T", "p@sw", "/", "RETR\x01"}) {
    EXPECT_EQ(failed(line), ParseError::bad_verb) << line;
  }
}

TEST(FtpParseCommand, EmptyLine) {
  EXPECT_EQ(failed(""), ParseError::empty);
}

TEST(FtpParseCommand, NulAnywhereIsRefused) {
  EXPECT_EQ(failed(std::string("RETR a\0b", 8)), ParseError::nul_byte);
  EXPECT_EQ(failed(std::string("\0", 1)), ParseError::nul_byte);
  EXPECT_EQ(failed(std::string("RE\0TR", 5)), ParseError::nul_byte);
}

TEST(FtpParseCommand, OverLongLineRefused) {
  EXPECT_EQ(failed("STOR " + std::string(kMaxCommandLine, 'a')), ParseError::too_long);
  std::string longest = "STOR " + std::string(kMaxCommandLine - 5, 'a');
  EXPECT_EQ(parsed(longest).arg.size(), kMaxCommandLine - 5);
}

TEST(FtpParseCommand, NonAsciiArgumentIsKept) {
  EXPECT_EQ(parsed("CWD r\xc3\xa9sum\xc3\xa9").arg, "r\xc3\xa9sum\xc3\xa9");
}

TEST(FtpParseCommandLine, StripsTelnetThenParses) {
  auto r = parse_command_line(kIac + "\xf4" + kIac + "\xf2" + "abor");
  ASSERT_TRUE(std::holds_alternative<Command>(r));
  EXPECT_EQ(std::get<Command>(r).verb, "ABOR");
  r = parse_command_line("RETR a" + kIac + kIac + "b");
  ASSERT_TRUE(std::holds_alternative<Command>(r));
  EXPECT_EQ(std::get<Command>(r).arg,
            "a\xff"
            "b");
  r = parse_command_line(kIac + "\xf1");  // only a NOP: nothing left
  ASSERT_TRUE(std::holds_alternative<ParseError>(r));
  EXPECT_EQ(std::get<ParseError>(r), ParseError::empty);
}

}  // namespace
}  // namespace muxio::ftp

namespace muxio::ftp {
namespace {

TEST(AsciiUpper, UpperCasesAsciiLettersOnly) {
  EXPECT_EQ(ascii_upper("tls-c p"), "TLS-C P");
  EXPECT_EQ(ascii_upper("\xc3\xa9z9"), "\xc3\xa9Z9");  // bytes of UTF-8 left alone
  EXPECT_EQ(ascii_upper(""), "");
}

}  // namespace
}  // namespace muxio::ftp
