#include "ftpd/quota.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace muxio::ftpd {

bool QuotaUsage::needs_measuring(TimePoint now) const {
  std::lock_guard lock(mutex_);
  return !valid_ || now - measured_ > kMaxAge;
}

QuotaUsage::MeasureTicket QuotaUsage::start_measuring() const {
  std::lock_guard lock(mutex_);
  return {changes_, committed_bytes_, committed_files_};
}

void QuotaUsage::set_measured(const MeasureTicket& ticket, std::uint64_t bytes, std::uint64_t files,
                              TimePoint now) {
  std::lock_guard lock(mutex_);
  // Files being replaced are still on disk, so the walk counted them.
  bytes -= std::min(bytes, forgotten_bytes_);
  // Committed during the walk: maybe seen by it, maybe not. Counted (at worst twice) until the
  // next walk, which the next upload makes.
  stored_bytes_ = bytes + (committed_bytes_ - ticket.committed_bytes);
  stored_files_ = files + (committed_files_ - ticket.committed_files);
  valid_ = changes_ == ticket.changes;
  measured_ = now;
}

void QuotaUsage::invalidate() {
  std::lock_guard lock(mutex_);
  valid_ = false;
  ++changes_;
}

bool QuotaUsage::reserve_bytes(std::uint64_t n, std::uint64_t limit) {
  std::lock_guard lock(mutex_);
  std::uint64_t used = stored_bytes_ + reserved_bytes_;
  if (limit != 0 && (used > limit || n > limit - used)) return false;
  reserved_bytes_ += n;
  return true;
}

bool QuotaUsage::reserve_file(std::uint64_t limit) {
  std::lock_guard lock(mutex_);
  if (limit != 0 && stored_files_ + reserved_files_ >= limit) return false;
  ++reserved_files_;
  return true;
}

void QuotaUsage::release(std::uint64_t bytes, std::uint64_t files) {
  std::lock_guard lock(mutex_);
  reserved_bytes_ -= std::min(bytes, reserved_bytes_);
  reserved_files_ -= std::min(files, reserved_files_);
}

void QuotaUsage::commit(std::uint64_t bytes, std::uint64_t files, std::uint64_t replaced) {
  std::lock_guard lock(mutex_);
  forgotten_bytes_ -= std::min(replaced, forgotten_bytes_);
  bytes = std::min(bytes, reserved_bytes_);
  files = std::min(files, reserved_files_);
  reserved_bytes_ -= bytes;
  reserved_files_ -= files;
  stored_bytes_ += bytes;
  stored_files_ += files;
  committed_bytes_ += bytes;
  committed_files_ += files;
  ++changes_;
}

void QuotaUsage::forget_stored(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  stored_bytes_ -= std::min(bytes, stored_bytes_);
  forgotten_bytes_ += bytes;
  ++changes_;
}

void QuotaUsage::restore_stored(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  forgotten_bytes_ -= std::min(bytes, forgotten_bytes_);
  stored_bytes_ += bytes;
  ++changes_;
}

std::uint64_t QuotaUsage::bytes() const {
  std::lock_guard lock(mutex_);
  return stored_bytes_ + reserved_bytes_;
}

std::uint64_t QuotaUsage::files() const {
  std::lock_guard lock(mutex_);
  return stored_files_ + reserved_files_;
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

QuotaReservation::QuotaReservation(std::shared_ptr<QuotaUsage> usage, const QuotaLimits& limits,
                                   bool exists, std::uint64_t replaced, Refusal* refusal)
    : byte_limit_(limits.bytes) {
  *refusal = Refusal::none;
  if (!exists && !usage->reserve_file(limits.files)) {
    *refusal = Refusal::files;
    return;
  }
  usage_ = std::move(usage);
  file_reserved_ = !exists;
  replaced_ = replaced;
  if (replaced_ != 0) usage_->forget_stored(replaced_);
  if (limits.bytes != 0 && usage_->bytes() >= limits.bytes) {
    release();
    *refusal = Refusal::bytes;
  }
}

QuotaReservation::QuotaReservation(std::unique_ptr<SharedQuota> shared, std::uint64_t granted)
    : shared_(std::move(shared)), granted_(granted) {}

QuotaReservation::QuotaReservation(QuotaReservation&& other) noexcept
    : usage_(std::move(other.usage_)),
      shared_(std::move(other.shared_)),
      granted_(other.granted_),
      byte_limit_(other.byte_limit_),
      file_reserved_(other.file_reserved_),
      reserved_(other.reserved_),
      replaced_(other.replaced_) {}

QuotaReservation& QuotaReservation::operator=(QuotaReservation&& other) noexcept {
  if (this != &other) {
    release();
    usage_ = std::move(other.usage_);
    shared_ = std::move(other.shared_);
    granted_ = other.granted_;
    byte_limit_ = other.byte_limit_;
    file_reserved_ = other.file_reserved_;
    reserved_ = other.reserved_;
    replaced_ = other.replaced_;
  }
  return *this;
}

bool QuotaReservation::take(std::uint64_t n) {
  if (shared_) {
    if (n > granted_ - reserved_) return false;
    reserved_ += n;
    return true;
  }
  if (!usage_) return true;
  if (!usage_->reserve_bytes(n, byte_limit_)) return false;
  reserved_ += n;
  return true;
}

Task<std::error_code> QuotaReservation::take_granted(std::uint64_t n) {
  if (!shared_) co_return errno_code(EDQUOT);
  auto more = co_await shared_->grant(n - (granted_ - reserved_));
  if (!more) co_return errno_code(EIO);
  granted_ += *more;
  if (*more == 0 || !take(n)) co_return errno_code(EDQUOT);
  co_return std::error_code{};
}

void QuotaReservation::release() {
  if (shared_) {
    shared_->release();
    shared_.reset();
    return;
  }
  if (!usage_) return;
  usage_->release(reserved_, file_reserved_ ? 1 : 0);
  if (replaced_ != 0) usage_->restore_stored(replaced_);
  usage_.reset();
}

void QuotaReservation::commit(bool measure_again) {
  if (shared_) {
    shared_->commit(reserved_, measure_again);
    shared_.reset();
    return;
  }
  if (!usage_) return;
  usage_->commit(reserved_, file_reserved_ ? 1 : 0, replaced_);
  if (measure_again) usage_->invalidate();
  usage_.reset();
}

}  // namespace muxio::ftpd
