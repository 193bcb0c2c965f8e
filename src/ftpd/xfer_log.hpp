// XferLog: one line per completed or aborted transfer, in the xferlog(5) format that wu-ftpd,
// vsftpd and ProFTPD write and that log analysers read:
//   Mon Nov 23 12:34:56 2026 2 127.0.0.1 1048576 /dir/file b _ o r alice ftp 0 * c
// (time, seconds, peer, bytes, path, type a/b, -, direction o/i, r=real user, user, service,
//  auth 0, *, c=complete i=incomplete). Thread-safe: loops on every thread write to one file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace muxio::ftpd {

struct TransferRecord {
  double seconds = 0;
  std::string peer_ip;
  std::uint64_t bytes = 0;
  std::string path;
  bool binary = true;
  bool upload = false;
  std::string user;
  bool complete = false;
};

class XferLog {
 public:
  XferLog() = default;
  ~XferLog();
  XferLog(const XferLog&) = delete;
  XferLog& operator=(const XferLog&) = delete;

  // "-" logs to stderr, "" disables; otherwise appends to the file.
  bool open(const std::string& path);
  void write(const TransferRecord& r);
  static std::string format(const TransferRecord& r, std::int64_t unix_time);

 private:
  std::mutex mutex_;
  std::FILE* out_ = nullptr;
  bool owned_ = false;
};

}  // namespace muxio::ftpd
