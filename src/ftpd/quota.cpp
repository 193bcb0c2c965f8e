#include "ftpd/quota.hpp"

#include <string>
#include <vector>

namespace muxio::ftpd {

bool QuotaUsage::needs_measuring(TimePoint now) const {
  std::lock_guard lock(mutex_);
  return !valid_ || now - measured_ > kMaxAge;
}

void QuotaUsage::set_measured(std::uint64_t bytes, std::uint64_t files, TimePoint now) {
  std::lock_guard lock(mutex_);
  bytes_ = bytes;
  files_ = files;
  valid_ = true;
  measured_ = now;
}

void QuotaUsage::invalidate() {
  std::lock_guard lock(mutex_);
  valid_ = false;
}

bool QuotaUsage::reserve_bytes(std::uint64_t n, std::uint64_t limit) {
  std::lock_guard lock(mutex_);
  if (limit != 0 && (bytes_ > limit || n > limit - bytes_)) return false;
  bytes_ += n;
  return true;
}

void QuotaUsage::release_bytes(std::uint64_t n) {
  std::lock_guard lock(mutex_);
  bytes_ -= std::min(n, bytes_);
}

bool QuotaUsage::reserve_file(std::uint64_t limit) {
  std::lock_guard lock(mutex_);
  if (limit != 0 && files_ >= limit) return false;
  ++files_;
  return true;
}

void QuotaUsage::release_file() {
  std::lock_guard lock(mutex_);
  if (files_ > 0) --files_;
}

std::uint64_t QuotaUsage::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::uint64_t QuotaUsage::files() const {
  std::lock_guard lock(mutex_);
  return files_;
}

Result<MeasuredUsage> measure_usage(const Vfs& vfs, unsigned max_depth) {
  MeasuredUsage usage;
  struct Pending {
    std::string path;
    unsigned depth;
  };
  std::vector<Pending> todo;
  todo.push_back({"/", 0});
  while (!todo.empty()) {
    Pending dir = std::move(todo.back());
    todo.pop_back();
    auto entries = vfs.list(dir.path);
    if (!entries) {
      if (dir.depth == 0) return entries.error();
      continue;  // unreadable or vanished meanwhile: counts as empty
    }
    for (const auto& e : *entries) {
      if (e.type == ftp::FileType::file) {
        usage.bytes += e.size;
        ++usage.files;
      } else if (e.type == ftp::FileType::dir && dir.depth + 1 < max_depth) {
        std::string child = dir.path == "/" ? "/" + e.name : dir.path + "/" + e.name;
        todo.push_back({std::move(child), dir.depth + 1});
      }
    }
  }
  return usage;
}

}  // namespace muxio::ftpd
