#include "ftpc/remote_listing.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "ftpc/progress.hpp"
#include "ftpc/url.hpp"

namespace muxio::ftpc {

namespace {

std::string format_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

bool by_name(const ftp::RemoteEntry& a, const ftp::RemoteEntry& b) {
  return a.name < b.name;
}

}  // namespace

std::string format_listing(std::vector<ftp::RemoteEntry> entries) {
  std::sort(entries.begin(), entries.end(), by_name);
  std::string out;
  for (const auto& e : entries) {
    char size[32];
    std::snprintf(size, sizeof size, "%12llu", static_cast<unsigned long long>(e.size.value_or(0)));
    std::string when = e.mtime ? format_time(*e.mtime) : std::string(16, ' ');
    bool dir = e.type == ftp::FileType::dir;
    std::string sz = dir ? std::string(12, ' ') : std::string(size);
    out += sz + "  " + when + "  " + fit_name(e.name, 4096) + (dir ? "/" : "") + "\n";
  }
  return out;
}

std::vector<ftp::RemoteEntry> files_matching(const std::vector<ftp::RemoteEntry>& entries,
                                             std::string_view pattern) {
  std::vector<ftp::RemoteEntry> out;
  for (const auto& e : entries) {
    if (e.type == ftp::FileType::dir || !glob_match(pattern, e.name)) continue;
    if (e.name.find('/') != std::string::npos || e.name == "." || e.name == "..") continue;
    out.push_back(e);
  }
  std::sort(out.begin(), out.end(), by_name);
  return out;
}

}  // namespace muxio::ftpc
