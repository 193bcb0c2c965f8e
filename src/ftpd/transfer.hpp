// Transfer: one data transfer of a session, from opening the data connection to the final
// reply: a download (RETR), an upload (STOR, APPE, STOU) or a listing (LIST, NLST, MLSD).
//
// Owner and lifetime: the Session that starts a transfer owns it and ends it before it goes.
// The transfer runs as a task of its own, so that the control connection keeps being read
// meanwhile; the session cancels it (ABOR, a client gone) and joins it with finish() (before the
// next command that must wait, at QUIT, at the end of the session's run), and a new transfer
// replaces only one that is done. Only when a loop is destroyed with both suspended does the
// session destroy a running transfer; its destructor then frees the task's frame first, while
// the session it refers to still exists. A transfer therefore never outlives its session, and
// the references it holds (TransferHost, settings, Vfs) stay valid as long as it runs.
//
// What it owns: the data connection (opened through the host, which holds the PASV/PORT set-up
// and the TLS state), its pacing (a bucket of its own for the session's limit, fresh for each
// transfer, and the user's bucket shared with their other sessions), the stall watchdog, an
// upload's quota reservation and file (a temporary renamed over the target when complete,
// removed otherwise; a file written in place keeps what arrived when the network cuts it, and
// that counts: the usage is measured again; a reservation given back on failure and when
// destroyed mid-way), and the xferlog line, metrics and log event that record it. Loop thread
// only.
//
// transfer.cpp holds the lifetime, pacing and record; transfer_download.cpp the downloads and
// listings; transfer_upload.cpp the uploads and their commit.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ftpd/data_connection.hpp"
#include "ftpd/json_log.hpp"
#include "ftpd/quota.hpp"
#include "ftpd/server_context.hpp"
#include "ftpd/vfs.hpp"
#include "muxio/rate_limiter.hpp"
#include "muxio/task_handle.hpp"

namespace muxio::ftpd {

// What a transfer asks of its session, and nothing more: the control connection's replies, a
// data connection opened (with the 150 and, under PROT P, the TLS handshake), the TLS verdict on
// an upload's end, and the session's log.
class TransferHost {
 public:
  virtual Task<void> reply(int code, std::string_view text) = 0;
  // Replies 150 with `opening`; on failure it has replied (425/426/521/522) and returns nothing.
  virtual Task<std::optional<DataConnection>> open_data_connection(std::string opening) = 0;
  // True when a TLS upload ended without close_notify (and the settings call that a cut).
  virtual bool upload_cut_short(DataConnection& conn) = 0;
  virtual void log(const std::string& message) const = 0;
  virtual void log_event(SessionEvent e, const std::string& text) const = 0;

 protected:
  ~TransferHost() = default;
};

// What a transfer takes from its session when it is made; fixed for its life.
struct TransferSetup {
  EventLoop& loop;
  ServerContext& server;         // xferlog, metrics, log
  const ServerConfig& settings;  // the session's settings
  const Vfs& vfs;                // the user's root
  TransferHost& host;
  std::uint64_t session_id = 0;  // for log lines
  std::string peer_ip;           // for the xferlog
  std::string user;
  bool binary = false;                                 // TYPE I (else ASCII, converted)
  std::shared_ptr<UserBandwidth::Buckets> user_rates;  // null: no per-user limit
  BandwidthLimits bandwidth;                           // the session's, with the user's overrides
};

// An upload's file, as the STOR, APPE or STOU handler opened it.
struct UploadTarget {
  UniqueFd file;
  std::optional<TempFile> temp;  // a plain STOR writes here, renamed over `path` when complete
  std::string path;
  std::string unique_name;  // STOU: the name it made (the 150 says it; removed on failure)
  // REST + STOR: the file is written from the offset on, and cut at the end of what was written
  // only when the upload is complete (an upload that never starts or fails keeps the old tail).
  bool truncate_when_complete = false;
  QuotaReservation quota;
};

class Transfer {
 public:
  // `what` is what STAT says is in progress ("RETR /a", "listing of /").
  Transfer(TransferSetup setup, std::string what);
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // Start the transfer's task; call one of them once.
  void start_download(UniqueFd file, std::string path, std::uint64_t offset, std::uint64_t size);
  void start_upload(UploadTarget target);
  void start_listing(std::string text, std::string what);

  bool running() const { return task_ && !task_.done(); }
  // ABOR or the end of the session: the transfer replies 426 as it ends.
  void cancel() { task_.cancel(); }
  // co_await finish(): waits for the end of the task, even if the waiter is cancelled meanwhile.
  detail::JoinAwaiter finish() const { return task_.finish(); }
  const std::string& what() const { return what_; }
  std::uint64_t bytes() const { return bytes_; }  // moved so far

 private:
  Task<void> send_file(UniqueFd file, std::string path, std::uint64_t offset, std::uint64_t size);
  Task<void> send_listing(std::string text, std::string what);
  Task<void> receive_file();
  std::error_code commit_upload(std::error_code* dir_sync_error);
  std::error_code finish_in_place(UniqueFd& undo, std::uint64_t end);
  Task<void> discard_upload(std::error_code disk_error, UniqueFd& undo, off_t size_before);
  void settle_quota(bool complete);

  // Pacing: the largest piece to move next, and the wait after `n` bytes moved (an error if
  // cancelled meanwhile).
  std::size_t paced_chunk(std::size_t wanted) const;
  Task<std::error_code> pace(std::size_t n);
  // The xferlog line, the metrics and the session's log event.
  void record(const std::string& path, std::uint64_t bytes, bool complete, TimePoint started);
  Duration stall_period() const;

  TransferSetup setup_;
  std::string what_;
  bool upload_ = false;
  std::uint64_t bytes_ = 0;  // progress, which the stall watchdog watches
  RateLimiter session_rate_;
  UploadTarget target_;  // an upload's file and quota reservation
  TaskHandle task_;
};

}  // namespace muxio::ftpd
