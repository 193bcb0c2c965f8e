#include "ftp/listing.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>

#include "ftp/time_format.hpp"

namespace muxio::ftp {

namespace {

bool is_control(char c) {
  return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}

// Owner and group are columns: a space inside would shift every column after it.
std::string safe_column(std::string_view s) {
  if (s.empty()) return "ftp";
  std::string out(s);
  for (char& c : out) {
    if (c == ' ' || c == '\t' || is_control(c)) c = '_';
  }
  return out;
}

// A fact value may not contain ';' (ends the fact) or a space (ends the facts), nor end the line.
std::string safe_fact(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ';' && c != ' ' && !is_control(c)) out.push_back(c);
  }
  return out;
}

std::string pad_right(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

char type_char(const FileFacts& f) {
  switch (f.type) {
    case FileType::dir:
      return 'd';
    case FileType::link:
      return 'l';
    case FileType::file:
      return '-';
    case FileType::other:
      break;
  }
  switch (f.mode & S_IFMT) {
    case S_IFIFO:
      return 'p';
    case S_IFSOCK:
      return 's';
    case S_IFCHR:
      return 'c';
    case S_IFBLK:
      return 'b';
    default:
      return '-';
  }
}

// "rwxr-xr-x" with setuid/setgid (s/S) and sticky (t/T) folded into the execute columns.
std::string permission_string(std::uint32_t mode) {
  std::string p = "---------";
  const char rwx[] = "rwx";
  for (int i = 0; i < 9; ++i) {
    if (mode & (0400u >> i)) p[i] = rwx[i % 3];
  }
  auto special = [&](std::uint32_t bit, int pos, char set_exec, char set_noexec) {
    if (mode & bit) p[pos] = p[pos] == 'x' ? set_exec : set_noexec;
  };
  special(S_ISUID, 2, 's', 'S');
  special(S_ISGID, 5, 's', 'S');
  special(S_ISVTX, 8, 't', 'T');
  return p;
}

// "Nov 23 12:34" for recent times, "Nov 23  2025" otherwise: the same width either way.
std::string list_date(std::int64_t mtime, std::int64_t now) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const CivilTime c = to_civil_utc(mtime);
  // Clamped first, so the differences cannot overflow whatever a caller passes.
  mtime = std::clamp(mtime, kMinTimestamp, kMaxTimestamp);
  now = std::clamp(now, kMinTimestamp, kMaxTimestamp);
  const bool recent = now - mtime < kRecentPast && mtime - now <= kRecentFuture;
  char buf[32];
  if (recent) {
    std::snprintf(buf, sizeof buf, "%s %2d %02d:%02d", kMonths[c.month - 1], c.day, c.hour,
                  c.minute);
  } else {
    std::snprintf(buf, sizeof buf, "%s %2d  %4d", kMonths[c.month - 1], c.day, c.year);
  }
  return buf;
}

const char* mlsx_type(FileType t) {
  switch (t) {
    case FileType::file:
      return "file";
    case FileType::dir:
      return "dir";
    case FileType::link:
      return "OS.unix=symlink";
    case FileType::other:
      break;
  }
  return "OS.unix=special";
}

}  // namespace

std::string safe_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '\r' || c == '\n' || c == '\0') c = '?';
  }
  return out;
}

std::string displayable_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

std::string format_list_line(const FileFacts& f, std::int64_t now) {
  char nlink[32];
  std::snprintf(nlink, sizeof nlink, "%4llu", static_cast<unsigned long long>(f.nlink));
  char size[32];
  std::snprintf(size, sizeof size, "%8llu", static_cast<unsigned long long>(f.size));

  std::string out;
  out.push_back(type_char(f));
  out += permission_string(f.mode);
  out += ' ';
  out += nlink;
  out += ' ';
  out += pad_right(safe_column(f.owner), 8);
  out += ' ';
  out += pad_right(safe_column(f.group), 8);
  out += ' ';
  out += size;
  out += ' ';
  out += list_date(f.mtime, now);
  out += ' ';
  out += displayable_name(f.name);
  return out;
}

namespace {
constexpr std::pair<unsigned, std::string_view> kMlstFactNames[] = {
    {kFactType, "type"}, {kFactSize, "size"},     {kFactModify, "modify"},
    {kFactPerm, "perm"}, {kFactUnique, "unique"},
};
}  // namespace

unsigned parse_mlst_facts(std::string_view list) {
  unsigned mask = 0;
  while (!list.empty()) {
    const auto semicolon = list.find(';');
    const auto name = list.substr(0, semicolon);
    for (const auto& [bit, known] : kMlstFactNames) {
      if (name.size() == known.size() &&
          std::equal(name.begin(), name.end(), known.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == b;
          })) {
        mask |= bit;
      }
    }
    if (semicolon == std::string_view::npos) break;
    list.remove_prefix(semicolon + 1);
  }
  return mask;
}

std::string mlst_fact_names(unsigned mask, bool starred) {
  std::string out;
  for (const auto& [bit, name] : kMlstFactNames) {
    if (!starred && (mask & bit) == 0) continue;
    out += name;
    if (starred && (mask & bit) != 0) out += '*';
    out += ';';
  }
  return out;
}

std::string format_mlsx_line(const FileFacts& f, std::string_view perm,
                             std::string_view type_override, unsigned facts) {
  const std::string type = type_override.empty() ? mlsx_type(f.type) : safe_fact(type_override);
  std::string out;
  if (facts & kFactType) out += "type=" + type + ";";
  if ((facts & kFactSize) && type == "file") out += "size=" + std::to_string(f.size) + ";";
  if (facts & kFactModify) out += "modify=" + format_mdtm(f.mtime) + ";";
  if (facts & kFactPerm) out += "perm=" + safe_fact(perm) + ";";
  const std::string unique = safe_fact(f.unique);
  if ((facts & kFactUnique) && !unique.empty()) out += "unique=" + unique + ";";
  out += ' ';
  out += safe_name(f.name);
  return out;
}

}  // namespace muxio::ftp
