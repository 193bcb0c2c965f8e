// ClusterQuota: one upload's share of its user's quota when the quota is kept for a whole
// cluster (cluster_ledger.hpp). The upload is granted bytes in leases of kLease ahead of what it
// writes, so that the ledger is asked once per lease and not per buffer; a lease is never more
// than the room left, so two uploads on two nodes together stay within the quota. The leases
// held count against the user until the upload commits (what it wrote becomes stored usage) or
// is released.
#pragma once

#include <memory>
#include <string>

#include "ftpd/cluster_client.hpp"
#include "ftpd/quota.hpp"

namespace muxio::ftpd {

class ClusterQuota final : public SharedQuota {
 public:
  static constexpr std::uint64_t kLease = 8 << 20;

  ClusterQuota(std::shared_ptr<ClusterClient> cluster, std::string user, const QuotaLimits& limits,
               bool new_file, std::uint64_t replaced);
  ~ClusterQuota() override;

  // The upload's first lease, which also takes its file slot and stops counting the file a plain
  // STOR replaces: a refusal (nothing held), or the bytes granted; an error when the ledger does
  // not answer.
  Task<Result<ClusterLedger::Grant>> first_grant();

  Task<Result<std::uint64_t>> grant(std::uint64_t n) override;
  void commit(std::uint64_t written, bool measure_again) override;
  void release() override;

 private:
  std::shared_ptr<ClusterClient> cluster_;
  std::uint64_t upload_;
  std::string user_;
  QuotaLimits limits_;
  bool new_file_;
  std::uint64_t replaced_;
  bool held_ = false;  // the ledger has a reservation row for this upload
};

}  // namespace muxio::ftpd
