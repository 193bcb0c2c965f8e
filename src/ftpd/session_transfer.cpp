// The commands that start transfers: RETR, STOR, STOU, APPE and the listings LIST, NLST, MLSD.
// The handler checks permissions, resolves the path, reserves quota and opens the file (on the
// offload pool), then hands it to a Transfer (transfer.hpp) that the session owns, which runs as
// a task of its own so the control connection stays responsive.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

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

Transfer& Session::new_transfer(std::string what) {
  const BandwidthLimits& limits = settings_->bandwidth;
  if ((limits.user_download != 0 || limits.user_upload != 0) && !user_rates_) {
    user_rates_ = server_.bandwidth.for_user(user_name_, limits);
  }
  TransferSetup setup{loop_, server_,    *settings_, vfs_,    *this,
                      id_,   peer_.ip(), user_name_, binary_, user_rates_};
  // The last transfer is done (dispatch waits for it before any command that starts one).
  transfer_ = std::make_unique<Transfer>(std::move(setup), std::move(what));
  return *transfer_;
}

Task<std::optional<DataConnection>> Session::open_data_connection(std::string opening) {
  auto stream = co_await data_.open();
  if (!stream) {
    if (stream.error() == Error::cancelled) {
      co_await shielded(reply(426, "Transfer aborted before it started."));
    } else {
      co_await shielded(reply(425, "Cannot open data connection."));
    }
    co_return std::nullopt;
  }
  DataConnection conn;
  conn.tcp = std::move(*stream);
  offer_fresh_tls_session();  // with the 150: what the data connection's handshake resumes
  co_await reply(150, opening);
  // RFC 4217: the TLS handshake on the data connection follows the 150.
  bool secured = co_await secure_data_connection(conn);
  if (!secured) co_return std::nullopt;
  co_return std::move(conn);
}

Task<void> Session::cmd_retr(const std::string& arg) {
  std::uint64_t offset = std::exchange(restart_offset_, 0);  // used up, whatever happens next
  bool allowed = co_await require(kRead);
  if (!allowed) co_return;
  auto path = co_await resolve(arg);
  if (!path) co_return;
  if (!data_.ready()) {
    co_await reply(425, "Use PORT, EPRT, PASV or EPSV first.");
    co_return;
  }
  auto file = co_await offload([&] { return vfs_.open(*path, O_RDONLY); });
  if (!file) {
    co_await reply_error(file.error());
    co_return;
  }
  struct stat st {};
  if (::fstat(file->get(), &st) < 0 || !S_ISREG(st.st_mode)) {
    co_await reply(550, "Not a regular file.");
    co_return;
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (offset > size) {
    co_await reply(554, "Restart offset beyond the end of the file.");
    co_return;
  }
  new_transfer("RETR " + *path).start_download(std::move(*file), *path, offset, size);
}

std::string Session::unique_upload_name() const {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char name[40];
  std::snprintf(name, sizeof name, "muxftpd.%016llx", static_cast<unsigned long long>(rng()));
  return name;
}

// Blocking (offload pool): opens a regular file for APPE or a REST + STOR resume.
Result<UniqueFd> Session::open_in_place(const std::string& path, bool append,
                                        std::uint64_t offset) const {
  auto f = vfs_.open(path, append ? (O_WRONLY | O_APPEND | O_CREAT) : O_WRONLY);
  if (!f) return f;
  struct stat st {};
  if (::fstat(f->get(), &st) < 0) return errno_code(errno);
  if (!S_ISREG(st.st_mode)) return errno_code(EPERM);  // no FIFOs, devices, directories
  if (append) return f;
  if (static_cast<std::uint64_t>(st.st_size) < offset) return errno_code(ESPIPE);
  if (::ftruncate(f->get(), static_cast<off_t>(offset)) < 0 ||
      ::lseek(f->get(), static_cast<off_t>(offset), SEEK_SET) < 0) {
    return errno_code(errno);
  }
  return f;
}

Task<void> Session::cmd_stor(const std::string& arg) {
  co_await start_store(arg, StoreMode::replace);
}
Task<void> Session::cmd_appe(const std::string& arg) {
  co_await start_store(arg, StoreMode::append);
}
Task<void> Session::cmd_stou(const std::string& arg) {
  co_await start_store(arg, StoreMode::unique);
}

Task<void> Session::start_store(const std::string& arg, StoreMode mode) {
  std::uint64_t offset = std::exchange(restart_offset_, 0);  // used up, whatever happens next
  bool allowed = co_await require(kWrite);
  if (!allowed) co_return;
  // STOU: a fresh name in the current directory; the server picks it (RFC 1123 §4.1.2.9).
  const std::string name = mode == StoreMode::unique ? unique_upload_name() : arg;
  auto path = co_await resolve(name);
  if (!path) co_return;
  if (!data_.ready()) {
    co_await reply(425, "Use PORT, EPRT, PASV or EPSV first.");
    co_return;
  }
  bool replaces = mode == StoreMode::replace && offset == 0;
  auto quota = co_await reserve_quota(*path, replaces);
  if (!quota) co_return;
  std::optional<TempFile> temp;
  Result<UniqueFd> file = errno_code(EINVAL);
  if (mode == StoreMode::unique) {
    file = co_await offload([&] { return vfs_.open(*path, O_WRONLY | O_CREAT | O_EXCL); });
  } else if (mode == StoreMode::append || offset > 0) {
    // APPE, and REST + STOR, continue a file in place (RFC 959; RFC 3659 §5).
    file =
        co_await offload([&] { return open_in_place(*path, mode == StoreMode::append, offset); });
  } else {
    // A plain STOR never touches the old file until the new one is complete.
    auto t = co_await offload([&]() -> Result<TempFile> {
      auto st = vfs_.stat(*path);
      if (st && S_ISDIR(st->st_mode)) return errno_code(EISDIR);
      return vfs_.create_temp(*path);
    });
    if (t) {
      file = UniqueFd(t->file.release());
      temp = std::move(*t);
    } else {
      file = t.error();
    }
  }
  if (!file) {
    quota.reset();  // given back before the reply, as no upload follows
    if (file.error() == std::errc::invalid_seek) {
      co_await reply(554, "Restart offset beyond the end of the file.");
    } else {
      co_await reply_error(file.error());
    }
    co_return;
  }
  UploadTarget target;
  target.file = std::move(*file);
  target.temp = std::move(temp);
  target.path = *path;
  if (mode == StoreMode::unique) target.unique_name = *path;
  target.quota = std::move(*quota);
  new_transfer("STOR " + *path).start_upload(std::move(target));
}

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
  if (kind == 1 && !listing.is_dir) {
    for (auto& e : *listing.entries)
      e.name = *path;  // NLST of a file names the file
  }
  new_transfer("listing of " + *path).start_listing(listing_text(*listing.entries, kind), *path);
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

}  // namespace muxio::ftpd
