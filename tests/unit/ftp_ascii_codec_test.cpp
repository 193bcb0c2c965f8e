#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ftp/ascii_codec.hpp"

namespace muxio::ftp {
namespace {

// Every interesting neighbourhood: CRLF, bare LF, lone CR, CR CR LF, LF at start, CR at the end.
const std::string kSample = "\nline one\nline two\r\n\r\nlone\rcr\r\r\nmixed\n\r\nend\r";

std::string to_net(std::string_view in) {
  ToNetworkAscii c;
  std::string out;
  c.convert(in, out);
  return out;
}

std::string from_net(std::string_view in) {
  FromNetworkAscii c;
  std::string out;
  c.convert(in, out);
  c.finish(out);
  return out;
}

TEST(FtpToNetworkAscii, LfBecomesCrlf) {
  EXPECT_EQ(to_net("a\nb\n"), "a\r\nb\r\n");
  EXPECT_EQ(to_net("\n\n"), "\r\n\r\n");
  EXPECT_EQ(to_net(""), "");
  EXPECT_EQ(to_net("no newline"), "no newline");
}

TEST(FtpToNetworkAscii, ExistingCrlfNotDoubledAndLoneCrKept) {
  EXPECT_EQ(to_net("a\r\nb"), "a\r\nb");
  EXPECT_EQ(to_net("a\rb"), "a\rb");
  EXPECT_EQ(to_net("a\r\r\n"), "a\r\r\n");
  EXPECT_EQ(to_net(kSample), "\r\nline one\r\nline two\r\n\r\nlone\rcr\r\r\nmixed\r\n\r\nend\r");
}

TEST(FtpToNetworkAscii, CrAtTheEndOfAChunkIsRemembered) {
  ToNetworkAscii c;
  std::string out;
  c.convert("a\r", out);
  c.convert("\nb", out);
  EXPECT_EQ(out, "a\r\nb");
  c.convert("\n", out);  // the previous chunk ended with 'b', so this LF needs its CR
  EXPECT_EQ(out, "a\r\nb\r\n");
}

TEST(FtpToNetworkAscii, EmptyChunkKeepsState) {
  ToNetworkAscii c;
  std::string out;
  c.convert("x\r", out);
  c.convert("", out);
  c.convert("\n", out);
  EXPECT_EQ(out, "x\r\n");
}

TEST(FtpFromNetworkAscii, CrlfBecomesLf) {
  EXPECT_EQ(from_net("a\r\nb\r\n"), "a\nb\n");
  EXPECT_EQ(from_net("\r\n"), "\n");
  EXPECT_EQ(from_net(""), "");
}

TEST(FtpFromNetworkAscii, LoneCrAndBareLfKept) {
  EXPECT_EQ(from_net("a\rb"), "a\rb");
  EXPECT_EQ(from_net("a\nb"), "a\nb");
  EXPECT_EQ(from_net("a\r\r\n"), "a\r\n");
  EXPECT_EQ(from_net("\r\r"), "\r\r");
  EXPECT_EQ(from_net(kSample), "\nline one\nline two\n\nlone\rcr\r\nmixed\n\nend\r");
}

TEST(FtpFromNetworkAscii, CrAtTheEndOfAChunkIsHeld) {
  FromNetworkAscii c;
  std::string out;
  c.convert("a\r", out);
  EXPECT_EQ(out, "a");  // held: it may be half of a CRLF
  c.convert("\nb\r", out);
  EXPECT_EQ(out, "a\nb");
  c.convert("c", out);  // not followed by LF: the CR was data
  EXPECT_EQ(out, "a\nb\rc");
  c.convert("\r", out);
  c.convert("\r", out);  // first CR released as data, second held
  EXPECT_EQ(out, "a\nb\rc\r");
  c.finish(out);
  EXPECT_EQ(out, "a\nb\rc\r\r");
  c.finish(out);  // idempotent
  EXPECT_EQ(out, "a\nb\rc\r\r");
}

TEST(FtpFromNetworkAscii, HeldCrThenEmptyChunk) {
  FromNetworkAscii c;
  std::string out;
  c.convert("x\r", out);
  c.convert("", out);
  c.convert("\n", out);
  c.finish(out);
  EXPECT_EQ(out, "x\n");
}

// Converting in two chunks, split at every position, must equal converting at once.
TEST(FtpAsciiCodec, EverySplitPositionMatchesWholeBuffer) {
  const std::string whole_to = to_net(kSample);
  const std::string whole_from = from_net(kSample);
  for (std::size_t i = 0; i <= kSample.size(); ++i) {
    for (std::size_t j = i; j <= kSample.size(); ++j) {
      const std::string_view s(kSample);
      ToNetworkAscii to;
      std::string out_to;
      to.convert(s.substr(0, i), out_to);
      to.convert(s.substr(i, j - i), out_to);
      to.convert(s.substr(j), out_to);
      EXPECT_EQ(out_to, whole_to) << "split at " << i << "," << j;

      FromNetworkAscii from;
      std::string out_from;
      from.convert(s.substr(0, i), out_from);
      from.convert(s.substr(i, j - i), out_from);
      from.convert(s.substr(j), out_from);
      from.finish(out_from);
      EXPECT_EQ(out_from, whole_from) << "split at " << i << "," << j;
    }
  }
}

TEST(FtpAsciiCodec, ByteByByteMatchesWholeBufferOnRandomText) {
  std::mt19937 rng(959);
  const char alphabet[] = {'a', 'b', '\r', '\n', ' '};
  for (int round = 0; round < 200; ++round) {
    std::string text(rng() % 64, 'a');
    for (char& c : text)
      c = alphabet[rng() % sizeof alphabet];
    ToNetworkAscii to;
    FromNetworkAscii from;
    std::string out_to, out_from;
    for (char c : text) {
      to.convert(std::string_view(&c, 1), out_to);
      from.convert(std::string_view(&c, 1), out_from);
    }
    from.finish(out_from);
    ASSERT_EQ(out_to, to_net(text)) << round;
    ASSERT_EQ(out_from, from_net(text)) << round;
  }
}

TEST(FtpAsciiCodec, UnixTextRoundTrips) {
  // Text without CR (a Unix file) survives send-then-receive unchanged.
  const std::string unix_text = "one\ntwo\n\nthree";
  EXPECT_EQ(from_net(to_net(unix_text)), unix_text);
}

TEST(FtpAsciiCodec, ConvertAppends) {
  std::string out = "prefix:";
  ToNetworkAscii to;
  to.convert("a\n", out);
  EXPECT_EQ(out, "prefix:a\r\n");
  FromNetworkAscii from;
  from.convert("b\r\n", out);
  EXPECT_EQ(out, "prefix:a\r\nb\n");
}

}  // namespace
}  // namespace muxio::ftp
