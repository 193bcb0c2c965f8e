#include "ftpd/cluster_quota.hpp"

namespace muxio::ftpd {

ClusterQuota::ClusterQuota(std::shared_ptr<ClusterClient> cluster, std::string user,
                           const QuotaLimits& limits, bool new_file, std::uint64_t replaced)
    : cluster_(std::move(cluster)),
      upload_(cluster_->next_upload_id()),
      user_(std::move(user)),
      limits_(limits),
      new_file_(new_file),
      replaced_(replaced) {}

ClusterQuota::~ClusterQuota() {
  release();
}

Task<Result<ClusterLedger::Grant>> ClusterQuota::first_grant() {
  ClusterLedger::GrantRequest r;
  r.upload = upload_;
  r.user = user_;
  r.limits = limits_;
  r.new_file = new_file_;
  r.replaced = replaced_;
  // A user at the quota already is refused up front (need one byte), as on a single node.
  r.need = limits_.bytes != 0 ? 1 : 0;
  r.want = kLease;
  auto granted = co_await cluster_->quota_grant(std::move(r));
  // Even a failed call may have committed (the answer lost on the way): releasing costs nothing.
  held_ = !granted || granted->refusal == QuotaReservation::Refusal::none;
  co_return granted;
}

Task<Result<std::uint64_t>> ClusterQuota::grant(std::uint64_t n) {
  ClusterLedger::GrantRequest r;
  r.upload = upload_;
  r.user = user_;
  r.limits = limits_;
  r.need = n;
  r.want = std::max<std::uint64_t>(n, kLease);
  auto granted = co_await cluster_->quota_grant(std::move(r));
  if (!granted) co_return granted.error();
  if (granted->refusal != QuotaReservation::Refusal::none) co_return std::uint64_t{0};
  co_return granted->bytes;
}

void ClusterQuota::commit(std::uint64_t written, bool measure_again) {
  if (!std::exchange(held_, false)) return;
  cluster_->quota_commit(upload_, user_, written, replaced_, new_file_, measure_again);
}

void ClusterQuota::release() {
  if (!std::exchange(held_, false)) return;
  cluster_->quota_release(upload_);
}

}  // namespace muxio::ftpd
