#include "ftpc/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

namespace muxio::ftpc {

namespace {

std::string printf_string(const char* fmt, double v, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v, unit);
  return buf;
}

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The code point of the UTF-8 sequence starting at s[i] (its continuation bytes, as far as they
// go); a stray byte stands for itself. Only the width matters, so no validation beyond that.
char32_t code_point_at(std::string_view s, std::size_t i) {
  auto lead = static_cast<unsigned char>(s[i]);
  int more = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
  char32_t cp = more == 3 ? lead & 0x07 : more == 2 ? lead & 0x0F : more == 1 ? lead & 0x1F : lead;
  for (int k = 1; k <= more && i + k < s.size() && is_continuation(s[i + k]); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

// Columns a code point takes on a terminal: 2 for East Asian wide and full-width characters
// (Unicode's EAW classes W and F: CJK, Hangul, kana, full-width forms, most emoji), 0 for
// combining marks and zero-width characters, 1 for the rest.
int columns_of(char32_t c) {
  struct Range {
    char32_t first, last;
  };
  static constexpr Range kZero[] = {
      {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
      {0x200B, 0x200F}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF},
  };
  static constexpr Range kWide[] = {
      {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
      {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},   {0x26AA, 0x26AB},
      {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},
      {0xA000, 0xA4CF},   {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
      {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},
      {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F300, 0x1F64F},
      {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD},
      {0x30000, 0x3FFFD},
  };
  auto in = [c](const auto& ranges) {
    return std::any_of(std::begin(ranges), std::end(ranges),
                       [c](const Range& r) { return c >= r.first && c <= r.last; });
  };
  if (c < 0x300) return 1;
  if (in(kZero)) return 0;
  return in(kWide) ? 2 : 1;
}

std::string bar(double fraction, int width) {
  if (width < 3) return {};
  int inner = width - 2;
  fraction = std::clamp(fraction, 0.0, 1.0);
  int full = static_cast<int>(fraction * inner);
  std::string s = "[";
  s.append(static_cast<std::size_t>(full), '=');
  if (full < inner) {
    s += '>';
    s.append(static_cast<std::size_t>(inner - full - 1), ' ');
  }
  s += ']';
  return s;
}

// How much of the right-hand columns a line has room for; a narrow terminal drops the bytes
// first, then the percentage, and keeps the rate and the ETA to the last.
enum class Detail { full, no_bytes, rate_eta };

// The right-hand columns of a bar line: percent, bytes, rate, ETA.
std::string right_part(const BarView& b, std::string_view extra, Detail detail = Detail::full) {
  std::string s;
  if (detail == Detail::rate_eta) {
    // nothing before the rate
  } else if (b.total && *b.total > 0) {
    char pct[16];
    int p = static_cast<int>(std::min<std::uint64_t>(b.done, *b.total) * 100 / *b.total);
    std::snprintf(pct, sizeof pct, "%3d%%", p);
    s += pct;
  } else if (b.total) {
    s += "100%";
  } else {
    s += "   ?";
  }
  if (!extra.empty() && detail == Detail::full) {
    s += "  ";
    s += extra;
  }
  if (detail == Detail::full) {
    s += "  " + format_bytes(b.done);
    if (b.total) s += "/" + format_bytes(*b.total);
  }
  if (!s.empty()) s += "  ";
  s += format_rate(b.rate);
  double eta = -1;
  if (b.total && b.rate > 1) {
    eta = static_cast<double>(*b.total > b.done ? *b.total - b.done : 0) / b.rate;
  }
  s += "  ETA " + format_eta(eta);
  return s;
}

// Columns a line may take: one short of the width, so the terminal never wraps it.
int usable_columns(int width) {
  return std::max(width - 1, 1);
}

std::string compose(std::string_view name, const BarView& b, std::string_view extra, int width) {
  const int usable = usable_columns(width);
  std::string right = right_part(b, extra);
  int right_w = static_cast<int>(right.size());
  // One name column for every line of the board, so that the bars line up.
  int name_w = std::clamp(usable / 5, 8, 32);
  // name, two spaces, bar (>= 10 columns), two spaces, right part
  int bar_w = usable - name_w - 2 - 2 - right_w;
  double fraction = 0;
  if (b.total) fraction = *b.total == 0 ? 1.0 : static_cast<double>(b.done) / *b.total;
  std::string line;
  if (bar_w >= 10) {
    line = fit_name(name, static_cast<std::size_t>(name_w));
    line.append(static_cast<std::size_t>(name_w) - display_width(line), ' ');
    line += "  " + bar(fraction, std::min(bar_w, 60)) + "  " + right;
  } else {
    // Narrow terminal: no bar. The numbers lose their least useful parts until the name keeps a
    // few columns; the name is shortened first, and on the narrowest terminal cut to nothing
    // before the rate and ETA are.
    constexpr int kNameAtLeast = 6;
    for (Detail d : {Detail::no_bytes, Detail::rate_eta}) {
      if (usable - 2 - right_w >= kNameAtLeast) break;
      right = right_part(b, extra, d);
      right_w = static_cast<int>(right.size());
    }
    int left = usable - 2 - right_w;
    if (left <= 0) return fit_name(right, static_cast<std::size_t>(usable));
    line = fit_name(name, static_cast<std::size_t>(left)) + "  " + right;
  }
  return fit_name(line, static_cast<std::size_t>(usable));
}

}  // namespace

std::string format_bytes(std::uint64_t n) {
  if (n < 1024) return std::to_string(n) + " B";
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n) / 1024;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return printf_string(v >= 100 ? "%.0f %s" : (v >= 10 ? "%.1f %s" : "%.2f %s"), v, units[u]);
}

std::string format_rate(double bytes_per_s) {
  if (!(bytes_per_s > 0)) return "0 B/s";
  return format_bytes(static_cast<std::uint64_t>(bytes_per_s)) + "/s";
}

std::string format_eta(double seconds) {
  if (!(seconds >= 0) || seconds > 359999) return "--:--";
  auto s = static_cast<long>(std::ceil(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

std::size_t display_width(std::string_view s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!is_continuation(s[i])) w += static_cast<std::size_t>(columns_of(code_point_at(s, i)));
  return w;
}

std::string fit_name(std::string_view name, std::size_t width) {
  std::string clean;
  clean.reserve(name.size());
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    clean += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (display_width(clean) <= width) return clean;
  if (width == 0) return {};
  // Keep at most width - 1 columns (a wide character that would straddle the limit goes too)
  // and mark the cut.
  std::string out;
  std::size_t cols = 0;
  for (std::size_t i = 0; i < clean.size(); ++i) {
    if (!is_continuation(clean[i])) {
      const auto w = static_cast<std::size_t>(columns_of(code_point_at(clean, i)));
      if (cols + w > width - 1) break;
      cols += w;
    }
    out += clean[i];
  }
  out += '~';
  return out;
}

void RateMeter::sample(double now_seconds, std::uint64_t bytes) {
  if (!started_) {
    started_ = true;
    last_t_ = now_seconds;
    last_bytes_ = bytes;
    return;
  }
  double dt = now_seconds - last_t_;
  if (dt <= 0.05) return;  // too close to measure
  double instant = bytes >= last_bytes_ ? static_cast<double>(bytes - last_bytes_) / dt : 0;
  double alpha = 1 - std::exp(-dt / 2.0);
  rate_ = rate_ == 0 ? instant : rate_ + alpha * (instant - rate_);
  last_t_ = now_seconds;
  last_bytes_ = bytes;
}

std::string render_bar_line(const BarView& b, int width) {
  return compose(b.name, b, {}, width);
}

std::string render_total_line(const BoardView& v, int width) {
  std::string extra = std::to_string(v.files_done) + "/" + std::to_string(v.files_total) + " files";
  if (v.files_failed > 0) extra += ", " + std::to_string(v.files_failed) + " failed";
  return compose("total", v.total, extra, width);
}

std::string render_frame(const BoardView& view, int width, int previous_lines,
                         const std::vector<std::string>& finished, int* lines_drawn) {
  std::string out;
  if (previous_lines == 0) out += "\x1b[?25l";  // hide the cursor while the board is up
  out += '\r';
  if (previous_lines > 0) out += "\x1b[" + std::to_string(previous_lines) + "A";
  for (const auto& f : finished)
    out += fit_name(f, static_cast<std::size_t>(usable_columns(width))) + "\x1b[K\n";
  int n = 0;
  for (const auto& b : view.bars) {
    out += render_bar_line(b, width) + "\x1b[K\n";
    ++n;
  }
  out += render_total_line(view, width) + "\x1b[K\n";
  ++n;
  out += "\x1b[J";
  if (lines_drawn != nullptr) *lines_drawn = n;
  return out;
}

std::string render_clear(int previous_lines) {
  std::string out = "\r";
  if (previous_lines > 0) out += "\x1b[" + std::to_string(previous_lines) + "A";
  out += "\x1b[J\x1b[?25h";
  return out;
}

std::string render_plain(const BoardView& view) {
  std::string out;
  for (const auto& b : view.bars)
    out += fit_name(b.name, 200) + ": " + right_part(b, {}) + "\n";
  std::string extra =
      std::to_string(view.files_done) + "/" + std::to_string(view.files_total) + " files";
  if (view.files_failed > 0) extra += ", " + std::to_string(view.files_failed) + " failed";
  out += "total: " + right_part(view.total, extra) + "\n";
  return out;
}

}  // namespace muxio::ftpc
