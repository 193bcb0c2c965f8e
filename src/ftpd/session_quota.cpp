// Per-user quotas at upload time: the user's usage is measured (off the loop) when unknown or
// stale, a new file takes a file slot, and bytes are taken as they arrive; a failed upload gives
// back what it took.
#include "ftpd/session.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpd {

Task<bool> Session::check_quota(const std::string& path, bool replaces) {
  upload_quota_ = UploadQuota{};
  const QuotaLimits& limits = quota_limits_;
  if (!limits.any()) co_return true;
  if (!quota_) {
    quota_ = server_.quotas.get(user_name_, [] { return std::make_shared<QuotaUsage>(); });
  }
  if (quota_->needs_measuring()) {
    QuotaUsage::MeasureTicket ticket = quota_->start_measuring();
    auto measured = co_await offload([&] { return measure_usage(vfs_); });
    if (measured) quota_->set_measured(ticket, measured->bytes, measured->files);
  }
  auto st = co_await offload([&] { return vfs_.stat(path); });
  bool exists = st && S_ISREG(st->st_mode);
  if (!exists && !quota_->reserve_file(limits.files)) {
    log("upload refused: file quota (" + std::to_string(limits.files) + " files) reached");
    co_await reply(552, "Quota exceeded: " + std::to_string(limits.files) + " files.");
    co_return false;
  }
  upload_quota_.active = true;
  upload_quota_.file_reserved = !exists;
  if (exists && replaces) {
    upload_quota_.replaced = static_cast<std::uint64_t>(st->st_size);
    quota_->forget_stored(upload_quota_.replaced);
  }
  if (limits.bytes != 0 && quota_->bytes() >= limits.bytes) {
    undo_quota();
    log("upload refused: byte quota reached");
    co_await reply(552, "Quota exceeded: " + std::to_string(limits.bytes) + " bytes.");
    co_return false;
  }
  co_return true;
}

bool Session::take_quota(std::size_t n) {
  if (!upload_quota_.active) return true;
  if (!quota_->reserve_bytes(n, quota_limits_.bytes)) return false;
  upload_quota_.reserved += n;
  return true;
}

void Session::undo_quota() {
  if (!upload_quota_.active) return;
  quota_->release(upload_quota_.reserved, upload_quota_.file_reserved ? 1 : 0);
  if (upload_quota_.replaced != 0) quota_->restore_stored(upload_quota_.replaced);
  upload_quota_ = UploadQuota{};
}

void Session::commit_quota() {
  if (!upload_quota_.active) return;
  quota_->commit(upload_quota_.reserved, upload_quota_.file_reserved ? 1 : 0,
                 upload_quota_.replaced);
  upload_quota_ = UploadQuota{};
}

}  // namespace muxio::ftpd
