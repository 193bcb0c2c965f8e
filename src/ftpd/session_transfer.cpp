// Transfers: RETR, STOR, STOU, APPE and the listings LIST, NLST, MLSD. The control handler checks
// permissions, resolves the path and opens the file (on the offload pool), then starts the
// transfer as a task of its own so the control connection stays responsive.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftp/ascii_codec.hpp"
#include "ftp/glob.hpp"
#include "ftp/listing.hpp"
#include "ftp/vpath.hpp"
#include "ftpd/session.hpp"
#include "muxio/file_ops.hpp"
#include "muxio/thread_pool.hpp"

#include <random>

namespace muxio::ftpd {

namespace {

constexpr std::size_t kSendfileChunk = 4 << 20;  // per call: keeps ABOR and progress responsive
constexpr std::size_t kReceiveBuffer = 256 << 10;

// Cancels the transfer it guards when `progress` has not moved for a whole period: a client
// that stalls a data connection cannot hold it (and a file descriptor) forever.
class StallWatchdog {
 public:
  StallWatchdog(EventLoop& loop, TaskContext* ctx, Duration period, const std::uint64_t& progress)
      : ctx_(ctx), period_(period), progress_(progress), timer_(loop, [this] { check(); }) {
    timer_.arm_after(period_);
  }
  ~StallWatchdog() {
    if (fired_) --ctx_->expired_timeouts;
  }
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;

 private:
  void check() {
    if (progress_ != last_) {
      last_ = progress_;
      timer_.arm_after(period_);
      return;
    }
    fired_ = true;
    ++ctx_->expired_timeouts;
    ctx_->interrupt(make_error_code(Error::timed_out));
  }

  TaskContext* ctx_;
  Duration period_;
  const std::uint64_t& progress_;
  std::uint64_t last_ = static_cast<std::uint64_t>(-1);
  bool fired_ = false;
  Timer timer_;
};

// On io_uring the kernel writes (a slow disk stalls no loop); elsewhere write(2) on the loop
// thread. Shielded: a write that has started finishes whole even when the transfer is aborted
// meanwhile, so an abort is reported as one (at the next read of the socket), never as a disk
// error.
// The offset is the caller's to keep (see write_file_all: on io_uring the file position cannot
// be trusted after a short write); it moves on only when every byte is written.
Task<std::error_code> write_to_file(int fd, std::string_view data, std::uint64_t& offset) {
  auto ec = co_await shielded(
      write_file_all(fd, std::as_bytes(std::span(data.data(), data.size())), offset));
  if (!ec) offset += data.size();
  co_return ec;
}

// -1 if it cannot be known.
off_t file_size(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_size : -1;
}

bool is_disk_full(std::error_code ec) {
  return ec == std::errc::no_space_on_device || ec.value() == EDQUOT;
}

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

void Session::start_transfer(Task<void> transfer) {
  transfer_bytes_ = 0;
  const BandwidthLimits& limits = bandwidth_limits_;
  download_rate_.set_rate(limits.session_download);
  upload_rate_.set_rate(limits.session_upload);
  if ((limits.user_download != 0 || limits.user_upload != 0) && !user_rates_) {
    user_rates_ = server_.bandwidth.for_user(user_name_, limits);
  }
  transfer_ = loop_.spawn(std::move(transfer));
}

std::size_t Session::paced_chunk(bool upload, std::size_t wanted) {
  std::size_t n = (upload ? upload_rate_ : download_rate_).chunk(wanted);
  if (user_rates_) n = (upload ? user_rates_->upload : user_rates_->download).chunk(n);
  return n;
}

Task<std::error_code> Session::pace(bool upload, std::size_t n) {
  Duration wait = (upload ? upload_rate_ : download_rate_).reserve(n);
  if (user_rates_) {
    wait = std::max(wait, (upload ? user_rates_->upload : user_rates_->download).reserve(n));
  }
  if (wait <= Duration::zero()) co_return std::error_code{};
  co_return co_await sleep_for(wait);
}

Task<std::optional<Session::DataConnection>> Session::open_data_connection(std::string opening) {
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

void Session::record_transfer(const std::string& path, std::uint64_t bytes, bool upload,
                              bool complete, TimePoint started) {
  TransferRecord r;
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  r.peer_ip = peer_.ip();
  r.bytes = bytes;
  r.path = path;
  r.binary = binary_;
  r.upload = upload;
  r.user = user_name_;
  r.complete = complete;
  server_.xferlog.write(r);
  server_.metrics.transfer(upload ? Metrics::Direction::upload : Metrics::Direction::download,
                           complete, bytes, r.seconds);
  SessionEvent e("transfer");
  e.path = path;
  e.bytes = bytes;
  e.duration = r.seconds;
  e.result = complete ? "complete" : "incomplete";
  e.direction = upload ? "upload" : "download";
  log_event(e, std::string(upload ? "upload " : "download ") + path + ": " + std::to_string(bytes) +
                   " bytes" + (complete ? "" : " (incomplete)"));
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
  transfer_what_ = "RETR " + *path;
  start_transfer(send_file(std::move(*file), *path, offset, size));
}

Task<void> Session::send_file(UniqueFd file, std::string path, std::uint64_t offset,
                              std::uint64_t size) {
  TimePoint started = Clock::now();
  auto data = co_await open_data_connection(
      std::string("Opening ") + (binary_ ? "BINARY" : "ASCII") + " mode data connection for " +
      path + " (" + std::to_string(size) + " bytes).");
  if (!data) {
    record_transfer(path, 0, false, false, started);
    co_return;
  }
  TaskContext* ctx = co_await current_context();
  StallWatchdog watchdog(loop_, ctx, std::chrono::duration_cast<Duration>(settings_->data_timeout),
                         transfer_bytes_);
  std::error_code ec;
  std::uint64_t pos = offset;
  // A file cut short meanwhile (truncated by someone else) cannot be sent whole: the client
  // must not be told 226 for a copy that lacks its end.
  bool shrank = false;
  if (binary_ && !data->tls) {
    while (pos < size && !ec) {
      std::size_t chunk = paced_chunk(false, kSendfileChunk);
      auto n = co_await data->tcp.sendfile(file.get(), static_cast<off_t>(pos),
                                           std::min<std::uint64_t>(size - pos, chunk));
      if (!n)
        ec = n.error();
      else if (*n == 0)
        shrank = true;
      else
        pos += *n;
      transfer_bytes_ = pos - offset;
      if (shrank) break;
      if (n) ec = co_await pace(false, *n);
    }
  } else {
    // Through user space: TLS encrypts every byte, ASCII mode converts line ends.
    ftp::ToNetworkAscii codec;
    std::string raw(kReceiveBuffer, '\0');
    std::string wire;
    while (!ec) {
      std::size_t chunk = paced_chunk(false, raw.size());
      auto n =
          co_await read_file_at(file.get(), std::as_writable_bytes(std::span(raw).first(chunk)),
                                static_cast<std::int64_t>(pos));
      if (!n) ec = n.error();
      if (n && *n == 0) shrank = pos < size;  // an end before the size seen at RETR
      if (!n || *n == 0) break;
      pos += *n;
      std::string_view out(raw.data(), *n);
      if (!binary_) {
        wire.clear();
        codec.convert(out, wire);
        out = wire;
      }
      ec = co_await data->stream().write_all(std::as_bytes(std::span(out.data(), out.size())));
      transfer_bytes_ = pos - offset;
      if (!ec) ec = co_await pace(false, *n);
    }
  }
  bool complete = !ec && !shrank;
  if (complete) {
    co_await data->finish();
  } else {
    data->abort();
  }
  if (complete) {
    co_await shielded(reply(226, "Transfer complete."));
  } else if (shrank) {
    server_.log->warn("[{}] download {}: the file shrank during the transfer", id_, path);
    co_await shielded(reply(451, "File shrank during the transfer; transfer aborted."));
  } else if (ec == Error::timed_out) {
    co_await shielded(reply(426, "Transfer timed out: no progress."));
  } else if (ec == Error::cancelled) {
    co_await shielded(reply(426, "Transfer aborted."));
  } else {
    co_await shielded(reply(426, "Connection closed; transfer aborted."));
  }
  record_transfer(path, pos - offset, false, complete, started);
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

// Blocking: a complete upload under its temporary name replaces the file at `path`. Durable
// before visible: the new content is on disk before it replaces the old file.
std::error_code Session::commit_upload(UniqueFd& file, TempFile& temp, const std::string& path,
                                       std::error_code* dir_sync_error) const {
  if (settings_->fsync_uploads && ::fsync(file.get()) < 0) return errno_code(errno);
  // Without fsync, a write error may show only at close (NFS, quotas): checked before the
  // upload replaces anything.
  if (auto ec = file.close()) return ec;
  return vfs_.commit(temp, path, settings_->fsync_uploads, dir_sync_error);
}

// Blocking: an upload written in place (APPE, REST + STOR, STOU) is complete only once its
// close succeeded: without fsync, a write error may show only there (NFS, quotas), and 226
// would promise data that is lost. close frees the descriptor even when it fails, so `undo`
// keeps the file open for the caller to take the upload back.
std::error_code Session::finish_in_place(UniqueFd& file, UniqueFd& undo, const std::string& path,
                                         bool created) const {
  if (settings_->fsync_uploads && ::fsync(file.get()) < 0) return errno_code(errno);
  undo = UniqueFd(::fcntl(file.get(), F_DUPFD_CLOEXEC, 0));
  if (!undo) return errno_code(errno);
  if (auto ec = file.close()) return ec;
  // STOU made a new name: like a commit's rename, it is durable before the client hears 226.
  if (created && settings_->fsync_uploads) return vfs_.sync_parent(path);
  return {};
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
  bool within_quota = co_await check_quota(*path, replaces);
  if (!within_quota) co_return;
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
    undo_quota();
    if (file.error() == std::errc::invalid_seek) {
      co_await reply(554, "Restart offset beyond the end of the file.");
    } else {
      co_await reply_error(file.error());
    }
    co_return;
  }
  transfer_what_ = "STOR " + *path;
  std::string reply_name = mode == StoreMode::unique ? *path : std::string();
  start_transfer(receive_file(std::move(*file), std::move(temp), *path, reply_name));
}

Task<void> Session::receive_file(UniqueFd file, std::optional<TempFile> temp, std::string path,
                                 std::string unique_name) {
  TimePoint started = Clock::now();
  // Written in place (APPE, REST + STOR): where the file ended before, so that a failed upload
  // takes back what it added instead of leaving a partial tail (on a full disk, that space too).
  const off_t size_before = temp ? -1 : file_size(file.get());
  const std::string ready = unique_name.empty() ? "Ok to send data." : "FILE: " + unique_name;
  auto data = co_await open_data_connection(ready);
  if (!data) {
    if (temp) co_await shielded(offload_task([&] { vfs_.discard(*temp); }));
    undo_quota();
    record_transfer(path, 0, true, false, started);
    co_return;
  }
  TaskContext* ctx = co_await current_context();
  StallWatchdog watchdog(loop_, ctx, std::chrono::duration_cast<Duration>(settings_->data_timeout),
                         transfer_bytes_);
  std::vector<std::byte> buf(kReceiveBuffer);
  ftp::FromNetworkAscii codec;
  std::string text;
  std::error_code net_error;
  std::error_code disk_error;
  std::uint64_t received = 0;
  // Where the data goes: 0 for a new file, the REST offset the file was opened at (APPE opens
  // with O_APPEND, where the kernel appends whatever the offset).
  const off_t start = ::lseek(file.get(), 0, SEEK_CUR);
  std::uint64_t write_at = start > 0 ? static_cast<std::uint64_t>(start) : 0;
  for (;;) {
    auto n = co_await data->stream().read_some(std::span(buf).first(paced_chunk(true, buf.size())));
    if (!n) {
      net_error = n.error();
      break;
    }
    if (*n == 0) {  // end of file: the client closed the data connection
      if (upload_cut_short(*data)) net_error = make_error_code(Error::tls_protocol_error);
      break;
    }
    received += *n;
    transfer_bytes_ = received;
    // Not reading is how the client is slowed: TCP's window closes while we wait.
    net_error = co_await pace(true, *n);
    if (net_error) break;
    std::string_view chunk(reinterpret_cast<const char*>(buf.data()), *n);
    if (!binary_) {
      text.clear();
      codec.convert(chunk, text);
      chunk = text;
    }
    if (!take_quota(chunk.size())) {
      disk_error = errno_code(EDQUOT);
      break;
    }
    disk_error = co_await write_to_file(file.get(), chunk, write_at);
    if (disk_error) break;
  }
  if (!net_error && !disk_error && !binary_) {
    text.clear();
    codec.finish(text);
    if (take_quota(text.size())) {
      disk_error = co_await write_to_file(file.get(), text, write_at);
    } else {
      disk_error = errno_code(EDQUOT);
    }
  }
  co_await data->finish();         // under TLS, answers the client's close_notify with ours
  std::error_code dir_sync_error;  // the upload is in place, its name maybe not yet durable
  UniqueFd undo;                   // in place: the file once `file` is closed, for the clean-up
  if (!net_error && !disk_error) {
    disk_error = co_await shielded(offload_task([&]() -> std::error_code {
      return temp ? commit_upload(file, *temp, path, &dir_sync_error)
                  : finish_in_place(file, undo, path, !unique_name.empty());
    }));
  }
  if (dir_sync_error) {
    server_.log->warn("[{}] upload {} stored, but fsync of its directory failed: {}", id_, path,
                      dir_sync_error.message());
  }
  bool complete = !net_error && !disk_error;
  if (!complete && temp) {
    // The previous file at `path` is untouched: only the temporary goes.
    co_await shielded(offload_task([&] { vfs_.discard(*temp); }));
  } else if (disk_error) {
    co_await shielded(offload_task([&] {
      if (!unique_name.empty()) {
        (void)vfs_.unlink(path);  // STOU: a name of our own that did not exist before
      } else if (size_before >= 0) {
        (void)::ftruncate(file ? file.get() : undo.get(), size_before);
      }
    }));
  }
  file.reset();
  undo.reset();
  if (complete) {
    commit_quota();
  } else {
    undo_quota();
  }
  // In place, the old size is no longer known here: measure again before the next upload.
  if (complete && !temp && quota_) quota_->invalidate();
  if (complete) {
    co_await shielded(reply(226, "Transfer complete."));
  } else if (disk_error.value() == EDQUOT) {
    log("upload " + path + " refused: quota exceeded");
    co_await shielded(reply(552, "Quota exceeded; upload removed."));
  } else if (disk_error) {
    server_.log->warn("[{}] upload {} failed: {}", id_, path, disk_error.message());
    co_await shielded(reply(is_disk_full(disk_error) ? 452 : 451,
                            is_disk_full(disk_error) ? "Insufficient storage space; upload removed."
                                                     : "Local error; upload removed."));
  } else if (net_error == Error::timed_out) {
    co_await shielded(reply(426, "Transfer timed out: no progress."));
  } else {
    co_await shielded(reply(426, "Transfer aborted."));
  }
  record_transfer(path, received, true, complete, started);
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
  transfer_what_ = "listing of " + *path;
  start_transfer(send_listing(listing_text(*listing.entries, kind), *path));
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
  transfer_what_ = "listing of " + target;
  start_transfer(send_listing(listing_text(matched, kind), target));
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

Task<void> Session::send_listing(std::string text, std::string what) {
  auto data = co_await open_data_connection("Here comes the listing of " + what + ".");
  if (!data) co_return;
  auto ec = co_await data->stream().write_all(std::as_bytes(std::span(text.data(), text.size())));
  co_await data->finish();
  co_await shielded(reply(ec ? 426 : 226, ec ? "Listing aborted." : "Directory send OK."));
}

}  // namespace muxio::ftpd
