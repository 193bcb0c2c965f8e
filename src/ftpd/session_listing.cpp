// Listings: LIST, NLST and MLSD over a data connection (a pattern in the last component lists
// the names that match), STAT with a path over the control connection, and the MLSx "perm"
// fact. The handler builds the text; a Transfer sends it.
#include <ctime>

#include "ftp/glob.hpp"
#include "ftp/listing.hpp"
#include "ftp/vpath.hpp"
#include "ftpd/session.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpd {

namespace {

// "LIST -la dir" -> "dir": clients pass ls options, which we do not interpret.
std::string strip_list_options(const std::string& arg) {
  std::string_view a = arg;
  while (a.size() > 1 && a[0] == '-') {
    auto space = a.find(' ');
    a = space == std::string_view::npos ? std::string_view{} : a.substr(space + 1);
  }
  return std::string(a);
}

}  // namespace

Task<void> Session::cmd_list(const std::string& arg) {
  co_await start_listing(arg, 0);
}

Task<void> Session::cmd_nlst(const std::string& arg) {
  co_await start_listing(arg, 1);
}

Task<void> Session::cmd_mlsd(const std::string& arg) {
  co_await start_listing(arg, 2);
}

Task<void> Session::start_listing(const std::string& arg, int kind) {
  bool allowed = co_await require(kList);
  if (!allowed) co_return;
  const std::string target = kind == 2 ? arg : strip_list_options(arg);
  if (kind != 2 && ftp::has_wildcards(target)) {  // RFC 3659: MLSD takes no wildcards
    co_await start_glob_listing(target, kind);
    co_return;
  }
  auto path = co_await resolve(target);
  if (!path) co_return;
  if (!data_.ready()) {
    co_await reply(425, "Use PORT, EPRT, PASV or EPSV first.");
    co_return;
  }
  if (kind == 1) {
    co_await start_name_listing(*path);
    co_return;
  }
  struct Listing {
    Result<std::vector<ftp::FileFacts>> entries = errno_code(EINVAL);
    bool is_dir = false;
  };
  auto listing = co_await offload([&] {
    Listing l;
    auto st = vfs_.stat(*path);
    l.is_dir = st && S_ISDIR(st->st_mode);
    l.entries = vfs_.list(*path);
    return l;
  });
  if (!listing.entries) {
    co_await reply_error(listing.entries.error());
    co_return;
  }
  if (kind == 2 && !listing.is_dir) {
    co_await reply(501, "MLSD needs a directory; use MLST for a file.");
    co_return;
  }
  new_transfer("listing of " + *path).start_listing(listing_text(*listing.entries, kind), *path);
}

// NLST: names only, read without a stat of each (a directory of 10,000 files costs a readdir,
// not 10,000 fstatat calls); NLST of a file names the file as the client gave it.
Task<void> Session::start_name_listing(const std::string& path) {
  auto listing = co_await offload([&] { return vfs_.list_names(path); });
  if (!listing) {
    co_await reply_error(listing.error());
    co_return;
  }
  std::string text;
  for (const auto& name : listing->names) {
    text += ftp::safe_name(listing->is_dir ? name : path);
    text += "\r\n";
  }
  new_transfer("listing of " + path).start_listing(std::move(text), path);
}

// LIST and NLST with a pattern in the last component ("*.bin", "dir/report-??.txt"): the
// directory's entries that match, named as the client wrote them ("dir/a.bin"), so that the
// names it gets back (mget, ncftpget) can be fetched as they are. The directory is confined like
// every path; a pattern in a directory component is refused, so one command reads one directory.
Task<void> Session::start_glob_listing(const std::string& target, int kind) {
  // Named parts, no structured binding and no temporary in a co_await (ARCHITECTURE.md, g++ 12).
  const ftp::GlobTarget parts = ftp::split_glob_target(target);
  const std::string_view directory = parts.directory;
  const std::string_view pattern = parts.pattern;
  const std::string directory_arg = directory.empty() ? "." : std::string(directory);
  if (ftp::has_wildcards(directory)) {
    co_await reply(550, "Wildcards are taken in the last path component only.");
    co_return;
  }
  auto path = co_await resolve(directory_arg);
  if (!path) co_return;
  if (!data_.ready()) {
    co_await reply(425, "Use PORT, EPRT, PASV or EPSV first.");
    co_return;
  }
  auto entries = co_await offload([&] { return vfs_.list(*path); });
  if (!entries) {
    co_await reply_error(entries.error());
    co_return;
  }
  std::vector<ftp::FileFacts> matched;
  for (auto& e : *entries) {
    if (!ftp::glob_match(pattern, e.name)) continue;
    if (matched.size() == kMaxGlobMatches) {
      co_await reply(550, "More than " + std::to_string(kMaxGlobMatches) +
                              " names match; narrow the pattern.");
      co_return;
    }
    e.name = std::string(directory) + e.name;
    matched.push_back(std::move(e));
  }
  if (matched.empty()) {
    co_await reply(550, "No files match " + ftp::safe_name(pattern) + ".");
    co_return;
  }
  new_transfer("listing of " + target).start_listing(listing_text(matched, kind), target);
}

std::string Session::listing_text(const std::vector<ftp::FileFacts>& entries, int kind) const {
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::string text;
  for (const auto& e : entries) {
    if (kind == 0) text += ftp::format_list_line(e, now);
    if (kind == 1) text += ftp::safe_name(e.name);
    if (kind == 2) text += ftp::format_mlsx_line(e, mlsx_perm(e), {}, mlst_facts_);
    text += "\r\n";
  }
  return text;
}

std::string Session::mlsx_perm(const ftp::FileFacts& f) const {
  std::string p;
  if (f.type == ftp::FileType::dir) {
    p += 'e';
    if (allowed(kList)) p += 'l';
    if (allowed(kWrite)) p += 'c';
    if (allowed(kMkdir)) p += 'm';
  } else {
    if (allowed(kRead)) p += 'r';
    if (allowed(kWrite)) p += "aw";
  }
  if (allowed(kDelete)) p += f.type == ftp::FileType::dir ? "dp" : "d";
  if (allowed(kRename)) p += 'f';
  return p;
}

Task<void> Session::stat_path(const std::string& arg) {
  if (!allowed(kList)) {
    co_await reply(550, "Permission denied.");
    co_return;
  }
  auto path = co_await resolve(arg);
  if (!path) co_return;
  auto entries = co_await offload([&] { return vfs_.list(*path); });
  if (!entries) {
    co_await reply_error(entries.error());
    co_return;
  }
  std::vector<std::string> body;
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  for (const auto& e : *entries)
    body.push_back(" " + ftp::format_list_line(e, now));
  co_await reply_lines(213, "Status of " + *path + ":", body, "End of status");
}

}  // namespace muxio::ftpd
