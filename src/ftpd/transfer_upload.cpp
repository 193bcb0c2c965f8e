// Uploads (STOR, APPE, STOU): the data connection's bytes written to the file the handler
// opened, bytes taken from the quota as they arrive, and the end that decides what stays. A
// complete upload is committed (a plain STOR's temporary renamed over the target, durable
// before visible; a file written in place closed with its errors checked) and its reservation
// becomes stored usage. A plain STOR or STOU that fails removes what it wrote and gives the
// reservation back; a file written in place (APPE, REST + STOR) keeps what arrived when the
// network cuts it (for a REST to resume), and those bytes count against the quota.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftp/ascii_codec.hpp"
#include "ftpd/stall_watchdog.hpp"
#include "ftpd/transfer.hpp"
#include "muxio/file_ops.hpp"
#include "muxio/thread_pool.hpp"
#include "muxio/time.hpp"

namespace muxio::ftpd {

namespace {

constexpr std::size_t kReceiveBuffer = 256 << 10;

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

// Write-behind for uploads that are fsynced at the end: every kWriteBehind bytes the kernel is
// asked to start writing them out (SYNC_FILE_RANGE_WRITE starts the writeback and does not wait
// for it), so the disk works while the upload arrives and the final fsync finds little left to
// do, instead of the whole file at once while the client waits for its 226.
constexpr std::uint64_t kWriteBehind = 8 << 20;

class WriteBehind {
 public:
  WriteBehind(int fd, std::uint64_t start, bool enabled) : fd_(fd), from_(start), on_(enabled) {}

  // `written_to` is where the upload's writes have reached.
  Task<void> wrote(std::uint64_t written_to) {
    if (!on_ || written_to < from_ + kWriteBehind) co_return;
    const auto offset = static_cast<off64_t>(from_);
    const auto length = static_cast<off64_t>(written_to - from_);
    from_ = written_to;
    // Off the loop: the call can wait when the device's queue is full. An error here only loses
    // the head start: the fsync at the end is what makes the upload durable, and reports.
    co_await offload([&] { (void)::sync_file_range(fd_, offset, length, SYNC_FILE_RANGE_WRITE); });
  }

 private:
  int fd_;
  std::uint64_t from_;
  bool on_;
};

}  // namespace

Task<void> Transfer::receive_file() {
  TimePoint started = Clock::now();
  TransferHost& host = setup_.host;
  const Vfs& vfs = setup_.vfs;
  UploadTarget& t = target_;
  const bool unique = !t.unique_name.empty();
  // Written in place (APPE, REST + STOR): where the file ended before, so that a failed upload
  // takes back what it added instead of leaving a partial tail (on a full disk, that space too).
  const off_t size_before = t.temp ? -1 : file_size(t.file.get());
  const std::string ready = unique ? "FILE: " + t.unique_name : "Ok to send data.";
  auto data = co_await host.open_data_connection(ready);
  if (!data) {
    // Nothing arrived. A temporary, and STOU's fresh name, go; a file opened in place is as it
    // was (an APPE to a new name leaves it empty, and settle_quota counts it).
    if (t.temp) {
      co_await shielded(offload_task([&] { vfs.discard(*t.temp); }));
    } else if (unique) {
      t.file.reset();
      co_await shielded(offload_task([&] { (void)vfs.unlink(t.path); }));
    }
    settle_quota(false);
    record(t.path, 0, false, started);
    co_return;
  }
  TaskContext* ctx = co_await current_context();
  StallWatchdog watchdog(setup_.loop, ctx, stall_period(), bytes_);
  std::vector<std::byte> buf(kReceiveBuffer);
  ftp::FromNetworkAscii codec;
  std::string text;
  std::error_code net_error;
  std::error_code disk_error;
  std::uint64_t received = 0;
  // Where the data goes: 0 for a new file, the REST offset the file was opened at (APPE opens
  // with O_APPEND, where the kernel appends whatever the offset).
  const off_t start = ::lseek(t.file.get(), 0, SEEK_CUR);
  std::uint64_t write_at = start > 0 ? static_cast<std::uint64_t>(start) : 0;
  WriteBehind write_behind(t.file.get(), write_at, setup_.settings.fsync_uploads);
  for (;;) {
    auto n = co_await data->stream().read_some(std::span(buf).first(paced_chunk(buf.size())));
    if (!n) {
      net_error = n.error();
      break;
    }
    if (*n == 0) {  // end of file: the client closed the data connection
      if (host.upload_cut_short(*data)) net_error = make_error_code(Error::tls_protocol_error);
      break;
    }
    received += *n;
    bytes_ = received;
    // Not reading is how the client is slowed: TCP's window closes while we wait.
    net_error = co_await pace(*n);
    if (net_error) break;
    std::string_view chunk(reinterpret_cast<const char*>(buf.data()), *n);
    if (!setup_.binary) {
      text.clear();
      codec.convert(chunk, text);
      chunk = text;
    }
    if (!t.quota.take(chunk.size())) {
      disk_error = co_await t.quota.take_granted(chunk.size());
      if (disk_error) break;
    }
    disk_error = co_await write_to_file(t.file.get(), chunk, write_at);
    if (disk_error) break;
    co_await write_behind.wrote(write_at);
  }
  if (!net_error && !disk_error && !setup_.binary) {
    text.clear();
    codec.finish(text);
    if (!t.quota.take(text.size())) disk_error = co_await t.quota.take_granted(text.size());
    if (!disk_error) disk_error = co_await write_to_file(t.file.get(), text, write_at);
  }
  co_await data->finish();         // under TLS, answers the client's close_notify with ours
  std::error_code dir_sync_error;  // the upload is in place, its name maybe not yet durable
  UniqueFd undo;                   // in place: the file once `file` is closed, for the clean-up
  if (!net_error && !disk_error) {
    disk_error = co_await shielded(offload_task([&]() -> std::error_code {
      return t.temp ? commit_upload(&dir_sync_error) : finish_in_place(undo, write_at);
    }));
  }
  if (dir_sync_error) {
    setup_.server.log->warn("[{}] upload {} stored, but fsync of its directory failed: {}",
                            setup_.session_id, t.path, dir_sync_error.message());
  }
  bool complete = !net_error && !disk_error;
  if (!complete) co_await discard_upload(disk_error, undo, size_before);
  t.file.reset();
  undo.reset();
  settle_quota(complete);
  if (complete) {
    co_await shielded(host.reply(226, "Transfer complete."));
  } else if (disk_error.value() == EDQUOT) {
    host.log("upload " + t.path + " refused: quota exceeded");
    co_await shielded(host.reply(552, "Quota exceeded; upload removed."));
  } else if (disk_error) {
    setup_.server.log->warn("[{}] upload {} failed: {}", setup_.session_id, t.path,
                            disk_error.message());
    co_await shielded(host.reply(is_disk_full(disk_error) ? 452 : 451,
                                 is_disk_full(disk_error)
                                     ? "Insufficient storage space; upload removed."
                                     : "Local error; upload removed."));
  } else if (net_error == Error::timed_out) {
    co_await shielded(host.reply(426, "Transfer timed out: no progress."));
  } else {
    co_await shielded(host.reply(426, "Transfer aborted."));
  }
  record(t.path, received, complete, started);
}

// An upload that is not complete: a plain STOR's temporary goes (the previous file at the path
// is untouched), and so does STOU's file (a name of our own that did not exist before: the
// client was never told it holds a whole upload); one written in place that hit a disk error
// takes back what it added past the file's old end (the bytes a REST + STOR overwrote stay
// overwritten). One cut by the network in place keeps what arrived, for a REST to resume.
Task<void> Transfer::discard_upload(std::error_code disk_error, UniqueFd& undo, off_t size_before) {
  const Vfs& vfs = setup_.vfs;
  UploadTarget& t = target_;
  if (t.temp) {
    co_await shielded(offload_task([&] { vfs.discard(*t.temp); }));
  } else if (!t.unique_name.empty()) {
    co_await shielded(offload_task([&] { (void)vfs.unlink(t.path); }));
  } else if (disk_error) {
    // Only what the upload added goes: never cut below the old size (a REST + STOR overwrites
    // inside the file, and what it wrote there cannot be told from the old bytes any more).
    co_await shielded(offload_task([&] {
      const int fd = t.file ? t.file.get() : undo.get();
      if (size_before >= 0 && file_size(fd) > size_before) (void)::ftruncate(fd, size_before);
    }));
  }
}

// What the upload leaves counts against the quota; what it removed is given back. A file
// written in place (APPE, REST + STOR) stays whatever happened, with what arrived (cut by the
// network), cut back (a disk error) or as it was (no data connection): its reservation is
// committed, and unless nothing was written the usage is measured again, as its old size is no
// longer known here. Giving the reservation back instead would let a client pass the quota by
// APPE and abort, again and again, until the next walk.
void Transfer::settle_quota(bool complete) {
  UploadTarget& t = target_;
  const bool in_place = !t.temp && t.unique_name.empty();
  if (complete) {
    t.quota.commit(!t.temp);
  } else if (in_place) {
    t.quota.commit(bytes_ != 0);
  } else {
    t.quota.release();
  }
}

// Blocking: a complete upload under its temporary name replaces the file at its path. Durable
// before visible: the new content is on disk before it replaces the old file.
std::error_code Transfer::commit_upload(std::error_code* dir_sync_error) {
  const bool durable = setup_.settings.fsync_uploads;
  UploadTarget& t = target_;
  if (durable && ::fsync(t.file.get()) < 0) return errno_code(errno);
  // Without fsync, a write error may show only at close (NFS, quotas): checked before the
  // upload replaces anything.
  if (auto ec = t.file.close()) return ec;
  return setup_.vfs.commit(*t.temp, t.path, durable, dir_sync_error);
}

// Blocking: an upload written in place (APPE, REST + STOR, STOU) is complete only once its
// close succeeded: without fsync, a write error may show only there (NFS, quotas), and 226
// would promise data that is lost. close frees the descriptor even when it fails, so `undo`
// keeps the file open for the caller to take the upload back. A REST + STOR ends the file at
// `end`, where its writes ended: only now, so that one that never started keeps the old tail.
std::error_code Transfer::finish_in_place(UniqueFd& undo, std::uint64_t end) {
  const bool durable = setup_.settings.fsync_uploads;
  UploadTarget& t = target_;
  if (durable && ::fsync(t.file.get()) < 0) return errno_code(errno);
  undo = UniqueFd(::fcntl(t.file.get(), F_DUPFD_CLOEXEC, 0));
  if (!undo) return errno_code(errno);
  if (auto ec = t.file.close()) return ec;
  // After the close's verdict: an upload whose data did not make it keeps the old tail.
  if (t.truncate_when_complete) {
    if (::ftruncate(undo.get(), static_cast<off_t>(end)) < 0) return errno_code(errno);
    if (durable && ::fsync(undo.get()) < 0) return errno_code(errno);
  }
  // STOU made a new name: like a commit's rename, it is durable before the client hears 226.
  if (!t.unique_name.empty() && durable) return setup_.vfs.sync_parent(t.path);
  return {};
}

}  // namespace muxio::ftpd
