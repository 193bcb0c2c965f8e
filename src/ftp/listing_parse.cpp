#include "ftp/listing_parse.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <vector>

#include "ftp/time_format.hpp"

namespace muxio::ftp {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
  if (!all_digits(s) || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s)
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A unix timestamp from civil fields, through the MDTM parser (which checks every range).
std::optional<std::int64_t> civil(int y, int mo, int d, int h, int mi) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d00", y, mo, d, h, mi);
  return parse_mdtm(buf);
}

int month_of(std::string_view s) {
  static constexpr std::array<std::string_view, 12> names = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  std::string l = lower(s);
  for (std::size_t i = 0; i < names.size(); ++i)
    if (l == names[i]) return static_cast<int>(i) + 1;
  return 0;
}

// Splits off the next whitespace-separated field; *rest is what follows it (spaces included).
std::string_view next_field(std::string_view* rest) {
  std::string_view s = *rest;
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
    ++i;
  std::size_t j = i;
  while (j < s.size() && s[j] != ' ' && s[j] != '\t')
    ++j;
  *rest = s.substr(j);
  return s.substr(i, j - i);
}

std::optional<RemoteEntry> parse_dos_line(std::string_view line) {
  // "11-23-25  12:34PM       <DIR>          name" / "... 1234 name"
  std::string_view rest = line;
  std::string_view date = next_field(&rest);
  std::string_view time = next_field(&rest);
  std::string_view what = next_field(&rest);
  if (date.size() < 8 || time.size() < 6 || what.empty()) return std::nullopt;
  int mo = 0, d = 0, y = 0, h = 0, mi = 0;
  char ampm[3] = {0, 0, 0};
  if (std::sscanf(std::string(date).c_str(), "%2d-%2d-%4d", &mo, &d, &y) != 3) return std::nullopt;
  if (std::sscanf(std::string(time).c_str(), "%2d:%2d%2c", &h, &mi, ampm) != 3) return std::nullopt;
  if (y < 70)
    y += 2000;
  else if (y < 100)
    y += 1900;
  std::string ap = lower(std::string_view(ampm, 2));
  if (h < 1 || h > 12 || (ap != "am" && ap != "pm")) return std::nullopt;
  if (ap == "pm" && h != 12) h += 12;
  if (ap == "am" && h == 12) h = 0;
  while (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  if (rest.empty()) return std::nullopt;
  RemoteEntry e;
  e.name = std::string(rest);
  e.mtime = civil(y, mo, d, h, mi);
  if (!e.mtime) return std::nullopt;
  if (what == "<DIR>") {
    e.type = FileType::dir;
  } else {
    e.size = to_u64(what);
    if (!e.size) return std::nullopt;
    e.type = FileType::file;
  }
  return e;
}

}  // namespace

std::optional<RemoteEntry> parse_mlsx_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  while (!line.empty() && line.front() == ' ')
    line.remove_prefix(1);  // MLST's leading space
  auto sp = line.find(' ');
  if (sp == std::string_view::npos || sp + 1 >= line.size()) return std::nullopt;
  std::string_view facts = line.substr(0, sp);
  RemoteEntry e;
  e.name = std::string(line.substr(sp + 1));
  bool has_type = false;
  while (!facts.empty()) {
    auto semi = facts.find(';');
    std::string_view fact = facts.substr(0, semi);
    facts = semi == std::string_view::npos ? std::string_view{} : facts.substr(semi + 1);
    auto eq = fact.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = lower(fact.substr(0, eq));
    std::string_view value = fact.substr(eq + 1);
    if (key == "type") {
      has_type = true;
      std::string v = lower(value);
      if (v == "cdir" || v == "pdir") return std::nullopt;
      if (v == "file")
        e.type = FileType::file;
      else if (v == "dir")
        e.type = FileType::dir;
      else if (v.rfind("os.unix=slink", 0) == 0 || v == "os.unix=symlink")
        e.type = FileType::link;
      else
        e.type = FileType::other;
    } else if (key == "size") {
      e.size = to_u64(value);
    } else if (key == "modify") {
      e.mtime = parse_mdtm(value);
    }
  }
  if (!has_type) e.type = FileType::file;
  if (e.name.empty()) return std::nullopt;
  return e;
}

std::optional<RemoteEntry> parse_list_line(std::string_view line, std::int64_t now) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return std::nullopt;
  if (line[0] >= '0' && line[0] <= '9') return parse_dos_line(line);
  std::string_view rest = line;
  std::string_view perms = next_field(&rest);
  if (perms.size() < 10) return std::nullopt;
  RemoteEntry e;
  switch (perms[0]) {
    case '-':
      e.type = FileType::file;
      break;
    case 'd':
      e.type = FileType::dir;
      break;
    case 'l':
      e.type = FileType::link;
      break;
    case 'b':
    case 'c':
    case 'p':
    case 's':
      e.type = FileType::other;
      break;
    default:
      return std::nullopt;
  }
  // links owner group size month day time|year name — some servers leave the group out, so the
  // size is found as the number just before the month.
  std::vector<std::string_view> fields;
  std::string_view name_rest;
  int month = 0;
  std::size_t month_at = 0;
  for (int i = 0; i < 6 && !rest.empty(); ++i) {
    std::string_view f = next_field(&rest);
    if (f.empty()) break;
    fields.push_back(f);
    if (i >= 2 && (month = month_of(f)) != 0 && all_digits(fields[fields.size() - 2])) {
      month_at = fields.size() - 1;
      break;
    }
  }
  if (month == 0) return std::nullopt;
  auto size = to_u64(fields[month_at - 1]);
  std::string_view day_s = next_field(&rest);
  std::string_view when = next_field(&rest);
  if (!size || !all_digits(day_s) || when.empty()) return std::nullopt;
  int day = std::stoi(std::string(day_s));
  if (rest.size() < 2 || rest[0] != ' ') return std::nullopt;
  rest.remove_prefix(1);  // exactly one separator: names may start with spaces
  if (e.type == FileType::link) {
    auto arrow = rest.find(" -> ");
    if (arrow != std::string_view::npos) {
      e.link_target = std::string(rest.substr(arrow + 4));
      rest = rest.substr(0, arrow);
    }
  }
  e.name = std::string(rest);
  if (e.name.empty() || e.name == "." || e.name == "..") return std::nullopt;
  e.size = size;
  if (when.find(':') != std::string_view::npos) {
    int h = 0, mi = 0;
    if (std::sscanf(std::string(when).c_str(), "%d:%d", &h, &mi) != 2) return std::nullopt;
    int year = to_civil_utc(now).year;
    auto t = civil(year, month, day, h, mi);
    if (t && *t > now + 86400) t = civil(year - 1, month, day, h, mi);
    e.mtime = t;
  } else if (all_digits(when) && when.size() == 4) {
    e.mtime = civil(std::stoi(std::string(when)), month, day, 0, 0);
  } else {
    return std::nullopt;
  }
  return e;
}

}  // namespace muxio::ftp
