// The progress board as a pure function: formats, line layout and widths, frames, plain lines.
#include <gtest/gtest.h>

#include "ftpc/progress.hpp"

using namespace muxio::ftpc;

namespace {

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1))
    ++n;
  return n;
}

BoardView sample_board() {
  BoardView v;
  BarView a;
  a.name = "debian-12.iso";
  a.done = 512 << 20;
  a.total = std::uint64_t{1} << 30;
  a.rate = 10 << 20;
  BarView b;
  b.name = "unknown-size.bin";
  b.done = 1000;
  v.bars = {a, b};
  v.total.done = a.done + b.done;
  v.total.rate = a.rate;
  v.files_done = 3;
  v.files_total = 7;
  return v;
}

}  // namespace

TEST(Format, Bytes) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(12u << 20), "12.0 MiB");
  EXPECT_EQ(format_bytes(std::uint64_t{300} << 30), "300 GiB");
}

TEST(Format, RateAndEta) {
  EXPECT_EQ(format_rate(0), "0 B/s");
  EXPECT_EQ(format_rate(2.5 * 1024 * 1024), "2.50 MiB/s");
  EXPECT_EQ(format_eta(-1), "--:--");
  EXPECT_EQ(format_eta(7), "0:07");
  EXPECT_EQ(format_eta(754), "12:34");
  EXPECT_EQ(format_eta(3723), "1:02:03");
  EXPECT_EQ(format_eta(1e9), "--:--");
}

TEST(FitName, ControlCharsAndUtf8) {
  EXPECT_EQ(fit_name("a\x1b[2Jb\n", 20), "a?[2Jb?");
  EXPECT_EQ(fit_name("abcdef", 4), "abc~");
  EXPECT_EQ(fit_name("abc", 3), "abc");
  // "été.txt": 7 columns, 9 bytes; cut at 4 columns keeps whole characters.
  EXPECT_EQ(fit_name("\xc3\xa9t\xc3\xa9.txt", 4), "\xc3\xa9t\xc3\xa9~");
  EXPECT_EQ(display_width("\xc3\xa9t\xc3\xa9.txt"), 7u);
}

TEST(BarLine, FitsEveryWidth) {
  BarView b = sample_board().bars[0];
  for (int w = 1; w <= 250; ++w) {
    std::string line = render_bar_line(b, w);
    EXPECT_LE(static_cast<int>(display_width(line)), std::max(w - 1, 1)) << "width " << w;
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find('\x1b'), std::string::npos);
  }
  std::string wide = render_bar_line(b, 120);
  EXPECT_NE(wide.find("debian-12.iso"), std::string::npos);
  EXPECT_NE(wide.find(" 50%"), std::string::npos);
  EXPECT_NE(wide.find("512 MiB/1.00 GiB"), std::string::npos);
  EXPECT_NE(wide.find("10.0 MiB/s"), std::string::npos);
  EXPECT_NE(wide.find("ETA 0:52"), std::string::npos);
  EXPECT_NE(wide.find("[====="), std::string::npos);
}

TEST(FitName, WideCharactersTakeTwoColumns) {
  const std::string cjk = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";  // 日本語: 6 columns
  EXPECT_EQ(display_width(cjk), 6u);
  EXPECT_EQ(display_width(cjk + ".txt"), 10u);
  EXPECT_EQ(display_width("\xed\x95\x9c"), 2u);      // 한 (Hangul)
  EXPECT_EQ(display_width("\xef\xbc\xa1"), 2u);      // Ａ (full-width A)
  EXPECT_EQ(display_width("\xf0\x9f\x98\x80"), 2u);  // an emoji
  EXPECT_EQ(display_width("e\xcc\x81"), 1u);         // e + a combining acute accent
  // Cut at 5 columns: two wide characters (4) and the mark; the third would straddle the cut.
  EXPECT_EQ(fit_name(cjk + ".txt", 5), "\xe6\x97\xa5\xe6\x9c\xac~");
  EXPECT_EQ(fit_name(cjk + ".txt", 4), "\xe6\x97\xa5~");
  EXPECT_EQ(display_width(fit_name(cjk + cjk + cjk, 8)), 7u);
}

TEST(BarLine, WideNamesFitEveryWidth) {
  BarView b = sample_board().bars[0];
  // 20 CJK characters: 40 columns, 60 bytes (a byte count would think it 60 or 20 wide).
  b.name.clear();
  for (int i = 0; i < 20; ++i)
    b.name += "\xe4\xb8\xad";  // 中
  for (int w = 1; w <= 200; ++w) {
    EXPECT_LE(static_cast<int>(display_width(render_bar_line(b, w))), std::max(w - 1, 1))
        << "width " << w;
    BoardView v = sample_board();
    v.bars[0] = b;
    EXPECT_LE(static_cast<int>(display_width(render_total_line(v, w))), std::max(w - 1, 1))
        << "width " << w;
  }
}

TEST(BarLine, NarrowTerminalsKeepRateAndEtaAndShortenTheNameFirst) {
  BarView b = sample_board().bars[0];
  b.name = "a-rather-long-file-name-from-the-server.iso";
  for (int w : {24, 30, 40, 50}) {
    std::string line = render_bar_line(b, w);
    EXPECT_LE(static_cast<int>(display_width(line)), w - 1) << line;
    EXPECT_NE(line.find("10.0 MiB/s"), std::string::npos) << "width " << w << ": " << line;
    EXPECT_NE(line.find("ETA 0:52"), std::string::npos) << "width " << w << ": " << line;
    if (w >= 30) {
      EXPECT_EQ(line.rfind("a-r", 0), 0u) << "width " << w << ": " << line;
    }
  }
  // Room for the percentage but not the bytes: the bytes go first.
  std::string forty = render_bar_line(b, 40);
  EXPECT_NE(forty.find(" 50%"), std::string::npos) << forty;
  EXPECT_EQ(forty.find("512 MiB"), std::string::npos) << forty;
  // The total line keeps its rate and ETA too.
  BoardView v = sample_board();
  v.total.total = std::uint64_t{2} << 30;
  std::string total = render_total_line(v, 30);
  EXPECT_LE(static_cast<int>(display_width(total)), 29) << total;
  EXPECT_NE(total.find("10.0 MiB/s"), std::string::npos) << total;
  EXPECT_NE(total.find("ETA "), std::string::npos) << total;
}

TEST(BarLine, UnknownTotalAndEmptyFile) {
  BarView b;
  b.name = "x";
  b.done = 10;
  std::string l = render_bar_line(b, 100);
  EXPECT_NE(l.find("   ?"), std::string::npos);
  EXPECT_NE(l.find("ETA --:--"), std::string::npos);
  b.total = 0;
  b.done = 0;
  EXPECT_NE(render_bar_line(b, 100).find("100%"), std::string::npos);
}

TEST(Frame, FirstThenRedrawInPlace) {
  BoardView v = sample_board();
  int lines = 0;
  std::string first = render_frame(v, 100, 0, {}, &lines);
  EXPECT_EQ(lines, 3);  // two bars and the total
  EXPECT_EQ(first.find("\x1b[?25l"), 0u);
  EXPECT_EQ(count(first, "\x1b[K\n"), 3);
  EXPECT_EQ(count(first, "\x1b[3A"), 0);
  EXPECT_NE(first.find("3/7 files"), std::string::npos);

  v.bars.pop_back();
  int again = 0;
  std::vector<std::string> finished = {"done    unknown-size.bin  1000 B in 1.0 s"};
  std::string second = render_frame(v, 100, lines, finished, &again);
  EXPECT_EQ(again, 2);
  EXPECT_EQ(second.find("\r\x1b[3A"), 0u);  // back over the previous frame
  EXPECT_EQ(count(second, "\x1b[K\n"), 3);  // the summary line and two board lines
  EXPECT_LT(second.find("done    unknown-size.bin"), second.find("debian-12.iso"));
  EXPECT_EQ(second.substr(second.size() - 3), "\x1b[J");  // the longer old frame is cleared
  EXPECT_EQ(count(second, "\x1b[?25l"), 0);
}

TEST(Frame, ClearRestoresCursor) {
  EXPECT_EQ(render_clear(3), "\r\x1b[3A\x1b[J\x1b[?25h");
  EXPECT_EQ(render_clear(0), "\r\x1b[J\x1b[?25h");
}

TEST(Plain, NoControlCharacters) {
  BoardView v = sample_board();
  v.bars[0].name = "evil\x1b[2Jname";
  v.files_failed = 1;
  std::string s = render_plain(v);
  for (char c : s)
    EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << int(c);
  EXPECT_EQ(count(s, "\n"), 3);
  EXPECT_NE(s.find("total:"), std::string::npos);
  EXPECT_NE(s.find("1 failed"), std::string::npos);
}

TEST(RateMeter, SmoothsTowardTheRate) {
  RateMeter m;
  m.sample(0.0, 0);
  EXPECT_EQ(m.rate(), 0);
  for (int i = 1; i <= 100; ++i)
    m.sample(i * 0.1, static_cast<std::uint64_t>(i) * 100000);  // 1 MB/s
  EXPECT_NEAR(m.rate(), 1e6, 1e3);
  for (int i = 101; i <= 110; ++i)
    m.sample(i * 0.1, 100u * 100000);  // stalled for one second
  EXPECT_GT(m.rate(), 2e5);            // smoothed: no drop to zero at once
  EXPECT_LT(m.rate(), 9e5);
}
