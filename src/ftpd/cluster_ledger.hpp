// ClusterLedger: what the nodes of a muxftpd cluster share in PostgreSQL, so that a limit holds
// for the cluster and not for each node: who is logged in (per-user session limits), failed
// logins per client address (bans), and each user's quota usage with the reservations of the
// uploads in progress. The tables are the user schema's version 3 (user_schema.cpp).
//
// Every node names itself (node_name) and proves it is alive by a heartbeat (cluster_nodes):
// sessions and reservations of a node not seen for kNodeTimeout count for nobody, so a node that
// dies (kill -9, a power cut) holds no place for long, and a node that starts again first drops
// whatever an earlier run of it held. Times are the database's clock, never a node's.
//
// Atomicity: a session claim and a quota grant read and then write; each runs in a transaction
// that first locks the user (an advisory lock, or the user's usage row), so two nodes serving
// the same user take turns and cannot both let the user past a limit.
//
// Blocking (one PgConnection): never on an event loop — ClusterClient runs these on threads of
// its own. Not for two threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

#include "ftpd/pg_connection.hpp"
#include "ftpd/quota.hpp"
#include "muxio/result.hpp"

namespace muxio::ftpd {

class ClusterLedger {
 public:
  // A node whose heartbeat is older than this is gone: its sessions and reservations count for
  // nobody. ClusterClient beats every kNodeTimeout / 4.
  static constexpr std::chrono::seconds kNodeTimeout{20};

  ClusterLedger(std::string conninfo, std::string node, std::chrono::seconds timeout);

  // A node that starts: what an earlier run of it held is dropped, and it is alive.
  std::error_code join(std::string* error);
  // Alive still; the rows of nodes long gone (and failure records long stale) are dropped.
  std::error_code heartbeat(std::string* error);
  // A node that stops: its sessions and reservations go.
  std::error_code leave(std::string* error);

  enum class Claim { admitted, refused };
  // A session of `user` logged in on this node: admitted while the user has fewer than `limit`
  // sessions on live nodes (the new one included in none of them yet).
  Result<Claim> claim_session(std::uint64_t session, const std::string& user, std::uint64_t limit,
                              std::string* error);
  std::error_code release_session(std::uint64_t session, std::string* error);

  struct Failures {
    unsigned count = 0;            // failures of the address so far (0 once a ban started)
    std::int64_t ban_seconds = 0;  // how long the address stays banned; 0: not banned
  };
  // A failed login from `address`: counted for the cluster; the failure that reaches
  // max_failures (0: never) bans the address for `ban`. Failures older than `ban` are forgotten.
  Result<Failures> record_failure(const std::string& address, unsigned max_failures,
                                  std::chrono::seconds ban, std::string* error);
  // Seconds the address stays banned; 0 if it is not.
  Result<std::int64_t> ban_seconds(const std::string& address, std::string* error);

  struct QuotaState {
    std::uint64_t bytes = 0;  // stored, plus reserved by uploads in progress on live nodes
    std::uint64_t files = 0;
    std::uint64_t changes = 0;  // moves at every commit and invalidation: see measured()
    bool stale = true;          // never measured, or not since a delete or kMaxAge
  };
  Result<QuotaState> quota_state(const std::string& user, std::string* error);
  // A walk of the user's home found bytes and files stored. Taken only if nothing changed since
  // quota_state() said `changes`: otherwise the walk may have missed a commit, the usage stays
  // stale and the next upload walks again. A usage never measured takes the walk whatever
  // changed (a commit it also counts is counted twice until the next walk: on the safe side).
  std::error_code quota_measured(const std::string& user, std::uint64_t changes,
                                 std::uint64_t bytes, std::uint64_t files, std::string* error);

  struct GrantRequest {
    std::uint64_t upload = 0;  // this node's id of the upload
    std::string user;
    QuotaLimits limits;
    bool new_file = false;       // the first grant of an upload to a new name takes a file
    std::uint64_t replaced = 0;  // the first grant of a plain STOR: the size of the file replaced
    std::uint64_t need = 0;      // bytes the upload must have now (refused below that)
    std::uint64_t want = 0;      // bytes it would like ahead (a lease), at least need
  };
  struct Grant {
    QuotaReservation::Refusal refusal = QuotaReservation::Refusal::none;
    std::uint64_t bytes = 0;  // granted, between need and want
  };
  Result<Grant> quota_grant(const GrantRequest& request, std::string* error);
  // A complete upload: its reservation becomes stored usage (`written` bytes, one more file if
  // new_file, `replaced` bytes fewer); measure_again when its old size is not known.
  std::error_code quota_commit(std::uint64_t upload, const std::string& user, std::uint64_t written,
                               std::uint64_t replaced, bool new_file, bool measure_again,
                               std::string* error);
  // A failed upload: its reservation goes.
  std::error_code quota_release(std::uint64_t upload, std::string* error);
  // After a delete or a rename: measure again before the next upload.
  std::error_code quota_invalidate(const std::string& user, std::string* error);

 private:
  // Runs fn inside a transaction; rolls back if fn or the commit fails.
  template <class F>
  std::error_code transaction(std::string* error, F&& fn);

  PgConnection db_;
  std::string node_;
};

}  // namespace muxio::ftpd
