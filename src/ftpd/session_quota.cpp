// Per-user quotas at upload time: the user's usage is measured (off the loop) when unknown or
// stale, and the upload gets a QuotaReservation (quota.hpp) that its Transfer holds: a new file
// takes a file slot, bytes are taken as they arrive, and a failed upload gives back what it took.
#include "ftpd/session.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpd {

Task<std::optional<QuotaReservation>> Session::reserve_quota(const std::string& path,
                                                             bool replaces) {
  const QuotaLimits& limits = settings_->quota;
  if (!limits.any()) co_return QuotaReservation();
  if (!quota_) {
    quota_ = server_.quotas.get(user_name_, [] { return std::make_shared<QuotaUsage>(); });
  }
  if (quota_->needs_measuring()) {
    QuotaUsage::MeasureTicket ticket = quota_->start_measuring();
    auto measured = co_await offload([&] { return measure_usage(vfs_); });
    if (measured) quota_->set_measured(ticket, measured->bytes, measured->files);
  }
  auto st = co_await offload([&] { return vfs_.stat(path); });
  const bool exists = st && S_ISREG(st->st_mode);
  const std::uint64_t replaced = exists && replaces ? static_cast<std::uint64_t>(st->st_size) : 0;
  QuotaReservation::Refusal refusal = QuotaReservation::Refusal::none;
  QuotaReservation reservation(quota_, limits, exists, replaced, &refusal);
  if (refusal == QuotaReservation::Refusal::files) {
    log("upload refused: file quota (" + std::to_string(limits.files) + " files) reached");
    co_await reply(552, "Quota exceeded: " + std::to_string(limits.files) + " files.");
    co_return std::nullopt;
  }
  if (refusal == QuotaReservation::Refusal::bytes) {
    log("upload refused: byte quota reached");
    co_await reply(552, "Quota exceeded: " + std::to_string(limits.bytes) + " bytes.");
    co_return std::nullopt;
  }
  co_return std::move(reservation);
}

}  // namespace muxio::ftpd
