#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ftp/line_reader.hpp"

namespace muxio::ftp {
namespace {

using Status = LineReader::Status;

// Every result next() gives until need_more: lines as themselves, too_long as "<too_long>".
std::vector<std::string> drain(LineReader& r) {
  std::vector<std::string> out;
  std::string line;
  while (true) {
    auto s = r.next(&line);
    if (s == Status::need_more) return out;
    out.push_back(s == Status::line ? line : "<too_long>");
  }
}

TEST(FtpLineReader, SplitsCrlfAndBareLf) {
  LineReader r;
  r.feed("USER anonymous\r\nPASS x\nNOOP\r\n");
  EXPECT_EQ(drain(r), (std::vector<std::string>{"USER anonymous", "PASS x", "NOOP"}));
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(FtpLineReader, NeedMoreUntilTerminatorArrives) {
  LineReader r;
  std::string line = "untouched";
  EXPECT_EQ(r.next(&line), Status::need_more);
  r.feed("NO");
  EXPECT_EQ(r.next(&line), Status::need_more);
  EXPECT_EQ(line, "untouched");
  EXPECT_EQ(r.buffered(), 2u);
  r.feed("OP");
  EXPECT_EQ(r.next(&line), Status::need_more);
  r.feed("\r\n");
  ASSERT_EQ(r.next(&line), Status::line);
  EXPECT_EQ(line, "NOOP");
  EXPECT_EQ(r.next(&line), Status::need_more);
}

TEST(FtpLineReader, CrlfSplitAcrossFeeds) {
  LineReader r;
  r.feed("PWD\r");
  std::string line;
  EXPECT_EQ(r.next(&line), Status::need_more);
  r.feed("\nCWD /\r");
  ASSERT_EQ(r.next(&line), Status::line);
  EXPECT_EQ(line, "PWD");
  EXPECT_EQ(r.next(&line), Status::need_more);
  r.feed("\n");
  ASSERT_EQ(r.next(&line), Status::line);
  EXPECT_EQ(line, "CWD /");
}

TEST(FtpLineReader, ByteByByteEqualsWholeBuffer) {
  const std::string input = "USER a\r\nPASS b\n\r\nRETR  x y \r\r\nQUIT\r\nTAIL";
  LineReader whole;
  whole.feed(input);
  auto expected = drain(whole);
  LineReader bytes;
  std::vector<std::string> got;
  for (char c : input) {
    bytes.feed(std::string_view(&c, 1));
    auto part = drain(bytes);
    got.insert(got.end(), part.begin(), part.end());
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(expected, (std::vector<std::string>{"USER a", "PASS b", "", "RETR  x y \r", "QUIT"}));
  EXPECT_EQ(bytes.buffered(), 4u);  // "TAIL" waits for its terminator
}

TEST(FtpLineReader, EmptyLinesAreLines) {
  LineReader r;
  r.feed("\r\n\n");
  EXPECT_EQ(drain(r), (std::vector<std::string>{"", ""}));
}

TEST(FtpLineReader, ExactlyMaxLineIsAccepted) {
  LineReader r(8);
  r.feed("12345678\r\n12345678\n");
  EXPECT_EQ(drain(r), (std::vector<std::string>{"12345678", "12345678"}));
}

TEST(FtpLineReader, OneByteOverMaxIsTooLong) {
  for (const char* input : {"123456789\r\nNOOP\r\n", "123456789\nNOOP\n"}) {
    LineReader r(8);
    r.feed(input);
    EXPECT_EQ(drain(r), (std::vector<std::string>{"<too_long>", "NOOP"})) << input;
  }
}

TEST(FtpLineReader, TooLongReportedOnceThenRestOfLineDiscarded) {
  LineReader r(8);
  r.feed(std::string(100, 'A') + "\r\nNOOP\r\n");
  EXPECT_EQ(drain(r), (std::vector<std::string>{"<too_long>", "NOOP"}));
}

TEST(FtpLineReader, OverLongLineSplitAcrossFeedsStaysBounded) {
  LineReader r(16);
  r.feed("STOR ");
  EXPECT_TRUE(drain(r).empty());
  // Reported as soon as it is known, before the LF arrives...
  r.feed(std::string(20, 'x'));
  EXPECT_EQ(drain(r), (std::vector<std::string>{"<too_long>"}));
  // ...then a megabyte of the same line costs nothing and produces nothing.
  for (int i = 0; i < 1024; ++i) {
    r.feed(std::string(1024, 'y'));
    EXPECT_LE(r.buffered(), 17u);
    EXPECT_TRUE(drain(r).empty());
  }
  EXPECT_EQ(r.buffered(), 0u);
  r.feed("zz\r\nPWD\r\n");
  EXPECT_EQ(drain(r), (std::vector<std::string>{"PWD"}));
}

TEST(FtpLineReader, LongLineEndingInCrAtTheLimit) {
  // 8 bytes of text + CR fill max_line + 1 without being too long yet; the LF decides.
  LineReader r(8);
  r.feed("12345678\r");
  EXPECT_TRUE(drain(r).empty());
  r.feed("\n");
  EXPECT_EQ(drain(r), (std::vector<std::string>{"12345678"}));
  // Text + CR + another byte: too long.
  r.feed("12345678\rX\r\nA\n");
  EXPECT_EQ(drain(r), (std::vector<std::string>{"<too_long>", "A"}));
}

TEST(FtpLineReader, TooLongKnownWithoutTheTerminator) {
  LineReader r(8);
  r.feed("123456789");  // max_line + 1 bytes are held: by count, the last could be a CR
  EXPECT_TRUE(drain(r).empty());
  EXPECT_EQ(r.buffered(), 9u);
  r.feed("0");  // max_line + 2 bytes without LF: too long whatever comes next
  EXPECT_EQ(drain(r), (std::vector<std::string>{"<too_long>"}));
  EXPECT_EQ(r.buffered(), 0u);
  r.feed("still the same line\r\nUSER x\r\n");
  EXPECT_EQ(drain(r), (std::vector<std::string>{"USER x"}));
}

TEST(FtpLineReader, TwoOverLongLinesInOneFeedAreTwoReports) {
  LineReader r(4);
  r.feed("aaaaaaaaa\nbbbbbbbbbbbb\r\nok\n");
  EXPECT_EQ(drain(r), (std::vector<std::string>{"<too_long>", "<too_long>", "ok"}));
}

TEST(FtpLineReader, NulBytesPassThroughForTheParserToRefuse) {
  LineReader r;
  r.feed(std::string("RE\0TR\r\n", 7));
  EXPECT_EQ(drain(r), (std::vector<std::string>{std::string("RE\0TR", 5)}));
}

TEST(FtpLineReader, BufferedShrinksAsLinesAreTaken) {
  LineReader r;
  r.feed("A\r\nB\r\nC");
  EXPECT_EQ(r.buffered(), 7u);
  std::string line;
  ASSERT_EQ(r.next(&line), Status::line);
  EXPECT_EQ(r.buffered(), 4u);
  ASSERT_EQ(r.next(&line), Status::line);
  EXPECT_EQ(r.buffered(), 1u);
  EXPECT_EQ(r.next(&line), Status::need_more);
}

}  // namespace
}  // namespace muxio::ftp
