#include "ftpc/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

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

// The right-hand columns of a bar line: percent, bytes, rate, ETA.
std::string right_part(const BarView& b, std::string_view extra) {
  std::string s;
  if (b.total && *b.total > 0) {
    char pct[16];
    int p = static_cast<int>(std::min<std::uint64_t>(b.done, *b.total) * 100 / *b.total);
    std::snprintf(pct, sizeof pct, "%3d%%", p);
    s += pct;
  } else if (b.total) {
    s += "100%";
  } else {
    s += "   ?";
  }
  if (!extra.empty()) {
    s += "  ";
    s += extra;
  }
  s += "  " + format_bytes(b.done);
  if (b.total) s += "/" + format_bytes(*b.total);
  s += "  " + format_rate(b.rate);
  double eta = -1;
  if (b.total && b.rate > 1) {
    eta = static_cast<double>(*b.total > b.done ? *b.total - b.done : 0) / b.rate;
  }
  s += "  ETA " + format_eta(eta);
  return s;
}

std::string compose(std::string_view name, const BarView& b, std::string_view extra, int width) {
  const int usable = std::max(width - 1, 10);
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
    // Narrow terminal: no bar; the name gets what is left, the numbers are cut if they must be.
    int left = usable - 2 - right_w;
    if (left < 8) left = std::min<int>(8, usable);
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
  for (char c : s)
    if (!is_continuation(c)) ++w;
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
  // Keep width - 1 columns and mark the cut.
  std::string out;
  std::size_t cols = 0;
  for (std::size_t i = 0; i < clean.size(); ++i) {
    if (!is_continuation(clean[i])) {
      if (cols == width - 1) break;
      ++cols;
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
    out += fit_name(f, static_cast<std::size_t>(std::max(width - 1, 10))) + "\x1b[K\n";
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
