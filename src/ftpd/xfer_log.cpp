#include "ftpd/xfer_log.hpp"

#include <ctime>

namespace muxio::ftpd {

XferLog::~XferLog() {
  if (owned_ && out_ != nullptr) std::fclose(out_);
}

bool XferLog::open(const std::string& path) {
  if (path.empty()) return true;
  if (path == "-") {
    out_ = stderr;
    return true;
  }
  out_ = std::fopen(path.c_str(), "ae");
  owned_ = out_ != nullptr;
  return owned_;
}

std::string XferLog::format(const TransferRecord& r, std::int64_t unix_time) {
  std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char when[64];
  std::strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
  // Spaces in names would shift the fields: xferlog writers replace them with '_'.
  std::string path = r.path;
  for (char& c : path) {
    if (c == ' ' || c == '\n' || c == '\r') c = '_';
  }
  char line[512];
  std::snprintf(line, sizeof line, "%s %.0f %s %llu ", when, r.seconds < 1 ? 1.0 : r.seconds,
                r.peer_ip.c_str(), static_cast<unsigned long long>(r.bytes));
  return std::string(line) + path + (r.binary ? " b _ " : " a _ ") + (r.upload ? "i" : "o") +
         " r " + r.user + " ftp 0 * " + (r.complete ? "c" : "i");
}

void XferLog::write(const TransferRecord& r) {
  if (out_ == nullptr) return;
  std::string line = format(r, std::time(nullptr)) + "\n";
  std::lock_guard lock(mutex_);
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
}

}  // namespace muxio::ftpd
