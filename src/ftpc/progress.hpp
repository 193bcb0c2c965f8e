// The progress board: what a terminal shows while transfers run — one bar per running transfer
// and a total line — and the plain lines written instead when the output is not a terminal.
//
// Rendering is a pure function of a BoardView (state -> string), so every layout rule is unit-
// tested; the program only decides when to draw (a loop timer, ~10 per second) and writes the
// string in one write(2). A frame never flickers: the cursor moves up over the previous frame and
// each line is rewritten in place and cleared to its end (ESC[K); ESC[J removes what a shorter
// frame leaves below. Lines never reach the last column, so the terminal never wraps them and the
// line count stays exact. Names come from servers: control characters in them are shown as '?'.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace muxio::ftpc {

std::string format_bytes(std::uint64_t n);    // "999 B", "1.5 KiB", "12.3 MiB", "2.00 GiB"
std::string format_rate(double bytes_per_s);  // "1.2 MiB/s"
std::string format_eta(double seconds);       // "0:07", "12:34", "1:02:03", "--:--" unknown

// Control characters replaced by '?', then cut to `width` columns (UTF-8 aware, '~' marks a cut).
std::string fit_name(std::string_view name, std::size_t width);
// Terminal columns: East Asian wide characters (CJK, kana, Hangul, full-width forms, emoji) take
// two, combining marks none, every other character one.
std::size_t display_width(std::string_view s);

// A smoothed rate: an exponential moving average of the rate between samples (time constant
// about 2 s), so a bar's rate and ETA do not jump with every redraw.
class RateMeter {
 public:
  void sample(double now_seconds, std::uint64_t bytes);
  double rate() const { return rate_; }

 private:
  bool started_ = false;
  double last_t_ = 0;
  std::uint64_t last_bytes_ = 0;
  double rate_ = 0;
};

struct BarView {
  std::string name;
  std::uint64_t done = 0;
  std::optional<std::uint64_t> total;
  double rate = 0;  // bytes per second, smoothed
};

struct BoardView {
  std::vector<BarView> bars;  // running transfers
  BarView total;              // name ignored
  std::size_t files_done = 0;
  std::size_t files_total = 0;
  std::size_t files_failed = 0;
};

// One line, at most width - 1 columns: "name  [=====>    ]  45%  1.2 MiB/2.7 MiB  3.1 MiB/s  ETA
// 0:05". Narrower: no bar, then no bytes, then no percentage, the name shortened first; the rate
// and ETA stay as long as they fit at all.
std::string render_bar_line(const BarView& bar, int width);
// "total [...] 45%  3/20 files  ..." (the failed count when any).
std::string render_total_line(const BoardView& view, int width);

// A whole frame for a terminal. `previous_lines`: lines of the frame on screen (0 for the first).
// `finished`: summary lines to print above the board (they stay). *lines_drawn: this frame's
// board lines, to pass as previous_lines next time.
std::string render_frame(const BoardView& view, int width, int previous_lines,
                         const std::vector<std::string>& finished, int* lines_drawn);
// Removes the board from the screen (the summary lines above it stay) and shows the cursor.
std::string render_clear(int previous_lines);
// Not a terminal: one plain line per running transfer and one for the total; no control chars.
std::string render_plain(const BoardView& view);

}  // namespace muxio::ftpc
