#include "ftpd/cluster_ledger.hpp"

#include <algorithm>
#include <charconv>

namespace muxio::ftpd {
namespace {

// The database's clock, in Unix seconds: nodes' clocks may disagree, its clock is one.
#define NOW_S "CAST(extract(epoch FROM now()) AS BIGINT)"

constexpr auto kMaxQuotaAge = std::chrono::duration_cast<std::chrono::seconds>(QuotaUsage::kMaxAge);
// A node not seen for this long is forgotten, with anything left of it.
constexpr std::chrono::seconds kForgetNode{24 * 3600};

std::string text(std::int64_t n) {
  return std::to_string(n);
}

std::int64_t number(const SqlRow& row, std::size_t column) {
  std::int64_t n = 0;
  if (column < row.size() && row[column]) {
    const std::string& s = *row[column];
    std::from_chars(s.data(), s.data() + s.size(), n);
  }
  return n;
}

std::uint64_t at_least_zero(std::int64_t n) {
  return n > 0 ? static_cast<std::uint64_t>(n) : 0;
}

const std::string kLiveSeconds = text(ClusterLedger::kNodeTimeout.count());

}  // namespace

ClusterLedger::ClusterLedger(std::string conninfo, std::string node, std::chrono::seconds timeout)
    : db_(std::move(conninfo), timeout), node_(std::move(node)) {}

template <class F>
std::error_code ClusterLedger::transaction(std::string* error, F&& fn) {
  if (auto ec = db_.begin(error)) return ec;
  if (auto ec = fn()) {
    db_.rollback();
    return ec;
  }
  return db_.commit(error);
}

std::error_code ClusterLedger::join(std::string* error) {
  return transaction(error, [&]() -> std::error_code {
    for (const char* sql : {"DELETE FROM cluster_sessions WHERE node = $1",
                            "DELETE FROM quota_reservations WHERE node = $1"}) {
      if (auto done = db_.query(sql, {node_}, nullptr, error); !done) return done.error();
    }
    return heartbeat(error);
  });
}

std::error_code ClusterLedger::heartbeat(std::string* error) {
  const char* beat = "INSERT INTO cluster_nodes (name, seen_at) VALUES ($1, " NOW_S
                     ") ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at";
  if (auto done = db_.query(beat, {node_}, nullptr, error); !done) return done.error();
  // Housekeeping, cheap on small tables: what dead nodes left, and failures long forgotten.
  const std::string forget = text(kForgetNode.count());
  const char* sweeps[] = {
      "DELETE FROM cluster_sessions WHERE node IN (SELECT name FROM cluster_nodes WHERE seen_at "
      "< " NOW_S " - $1)",
      "DELETE FROM quota_reservations WHERE node IN (SELECT name FROM cluster_nodes WHERE seen_at "
      "< " NOW_S " - $1)",
      "DELETE FROM cluster_nodes WHERE seen_at < " NOW_S " - $1",
      "DELETE FROM login_failures WHERE last_failure < " NOW_S " - $1 AND banned_until < " NOW_S,
  };
  for (const char* sql : sweeps) {
    if (auto done = db_.query(sql, {forget}, nullptr, error); !done) return done.error();
  }
  return {};
}

std::error_code ClusterLedger::leave(std::string* error) {
  return transaction(error, [&]() -> std::error_code {
    for (const char* sql : {"DELETE FROM cluster_sessions WHERE node = $1",
                            "DELETE FROM quota_reservations WHERE node = $1",
                            "DELETE FROM cluster_nodes WHERE name = $1"}) {
      if (auto done = db_.query(sql, {node_}, nullptr, error); !done) return done.error();
    }
    return {};
  });
}

Result<ClusterLedger::Claim> ClusterLedger::claim_session(std::uint64_t session,
                                                          const std::string& user,
                                                          std::uint64_t limit, std::string* error) {
  int inserted = 0;
  auto ec = transaction(error, [&]() -> std::error_code {
    // Claims for one user take turns across the cluster; other users' do not wait.
    auto locked = db_.query("SELECT pg_advisory_xact_lock(hashtext('muxftpd-session:' || $1))",
                            {user}, nullptr, error);
    if (!locked) return locked.error();
    auto done = db_.query(
        "INSERT INTO cluster_sessions (node, session_id, user_name) SELECT $1, $2, $3 "
        "WHERE (SELECT count(*) FROM cluster_sessions s JOIN cluster_nodes n ON n.name = s.node "
        "WHERE s.user_name = $3 AND n.seen_at >= " NOW_S " - $5) < $4",
        {node_, text(static_cast<std::int64_t>(session)), user,
         text(static_cast<std::int64_t>(limit)), kLiveSeconds},
        nullptr, error);
    if (!done) return done.error();
    inserted = *done;
    return {};
  });
  if (ec) return ec;
  return inserted == 1 ? Claim::admitted : Claim::refused;
}

std::error_code ClusterLedger::release_session(std::uint64_t session, std::string* error) {
  auto done = db_.query("DELETE FROM cluster_sessions WHERE node = $1 AND session_id = $2",
                        {node_, text(static_cast<std::int64_t>(session))}, nullptr, error);
  return done ? std::error_code{} : done.error();
}

Result<ClusterLedger::Failures> ClusterLedger::record_failure(const std::string& address,
                                                              unsigned max_failures,
                                                              std::chrono::seconds ban,
                                                              std::string* error) {
  Failures out;
  auto ec = transaction(error, [&]() -> std::error_code {
    std::vector<SqlRow> rows;
    // One statement: two nodes counting the same address at once both count.
    auto done = db_.query(
        "INSERT INTO login_failures AS f (address, failures, last_failure, banned_until) "
        "VALUES ($1, 1, " NOW_S
        ", 0) ON CONFLICT (address) DO UPDATE SET "
        "failures = CASE WHEN f.last_failure < " NOW_S
        " - $2 THEN 1 ELSE f.failures + 1 END, "
        "last_failure = " NOW_S " RETURNING failures",
        {address, text(ban.count())}, &rows, error);
    if (!done) return done.error();
    out.count = rows.empty() ? 0 : static_cast<unsigned>(number(rows[0], 0));
    if (max_failures == 0 || out.count < max_failures) return {};
    // The failure that reaches the limit starts the ban, and the count starts again.
    done = db_.query("UPDATE login_failures SET failures = 0, banned_until = " NOW_S
                     " + $2 WHERE address = $1",
                     {address, text(ban.count())}, nullptr, error);
    if (!done) return done.error();
    out.ban_seconds = ban.count();
    return {};
  });
  if (ec) return ec;
  return out;
}

Result<std::int64_t> ClusterLedger::ban_seconds(const std::string& address, std::string* error) {
  std::vector<SqlRow> rows;
  auto done = db_.query("SELECT banned_until - " NOW_S
                        " FROM login_failures WHERE address = $1 AND banned_until > " NOW_S,
                        {address}, &rows, error);
  if (!done) return done.error();
  return rows.empty() ? 0 : std::max<std::int64_t>(0, number(rows[0], 0));
}

Result<ClusterLedger::QuotaState> ClusterLedger::quota_state(const std::string& user,
                                                             std::string* error) {
  std::vector<SqlRow> rows;
  auto done = db_.query(
      "SELECT u.bytes + coalesce(r.bytes, 0), u.files + coalesce(r.files, 0), u.changes, "
      "u.stale <> 0 OR u.measured_at < " NOW_S
      " - $3 "
      "FROM quota_usage u LEFT JOIN (SELECT sum(q.bytes) AS bytes, sum(q.files) AS files "
      "  FROM quota_reservations q JOIN cluster_nodes n ON n.name = q.node "
      "  WHERE q.user_name = $1 AND n.seen_at >= " NOW_S
      " - $2) r ON true "
      "WHERE u.user_name = $1",
      {user, kLiveSeconds, text(kMaxQuotaAge.count())}, &rows, error);
  if (!done) return done.error();
  QuotaState state;
  if (rows.empty()) return state;  // never measured
  state.bytes = at_least_zero(number(rows[0], 0));
  state.files = at_least_zero(number(rows[0], 1));
  state.changes = at_least_zero(number(rows[0], 2));
  state.stale = rows[0].size() > 3 && rows[0][3] && (*rows[0][3] == "t" || *rows[0][3] == "true");
  return state;
}

std::error_code ClusterLedger::quota_measured(const std::string& user, std::uint64_t changes,
                                              std::uint64_t bytes, std::uint64_t files,
                                              std::string* error) {
  auto done = db_.query(
      "INSERT INTO quota_usage AS u (user_name, bytes, files, changes, stale, measured_at) "
      "VALUES ($1, $2, $3, 0, 0, " NOW_S
      ") ON CONFLICT (user_name) DO UPDATE SET "
      "bytes = excluded.bytes, files = excluded.files, stale = 0, measured_at = " NOW_S
      " WHERE u.changes = $4 OR u.measured_at = 0",
      {user, text(static_cast<std::int64_t>(bytes)), text(static_cast<std::int64_t>(files)),
       text(static_cast<std::int64_t>(changes))},
      nullptr, error);
  return done ? std::error_code{} : done.error();
}

Result<ClusterLedger::Grant> ClusterLedger::quota_grant(const GrantRequest& r, std::string* error) {
  Grant grant;
  auto ec = transaction(error, [&]() -> std::error_code {
    // The user's usage row, locked: grants for one user take turns across the cluster.
    auto made = db_.query(
        "INSERT INTO quota_usage (user_name, bytes, files, changes, stale, measured_at) "
        "VALUES ($1, 0, 0, 0, 1, 0) ON CONFLICT (user_name) DO NOTHING",
        {r.user}, nullptr, error);
    if (!made) return made.error();
    std::vector<SqlRow> rows;
    auto locked = db_.query("SELECT bytes, files FROM quota_usage WHERE user_name = $1 FOR UPDATE",
                            {r.user}, &rows, error);
    if (!locked) return locked.error();
    std::vector<SqlRow> reserved;
    auto summed = db_.query(
        "SELECT coalesce(sum(q.bytes), 0), coalesce(sum(q.files), 0) FROM quota_reservations q "
        "JOIN cluster_nodes n ON n.name = q.node WHERE q.user_name = $1 AND n.seen_at >= " NOW_S
        " - $2",
        {r.user, kLiveSeconds}, &reserved, error);
    if (!summed) return summed.error();
    const std::int64_t used_bytes =
        (rows.empty() ? 0 : number(rows[0], 0)) + (reserved.empty() ? 0 : number(reserved[0], 0));
    const std::int64_t used_files =
        (rows.empty() ? 0 : number(rows[0], 1)) + (reserved.empty() ? 0 : number(reserved[0], 1));
    const std::int64_t files = r.new_file ? 1 : 0;
    if (r.new_file && r.limits.files != 0 &&
        used_files + 1 > static_cast<std::int64_t>(r.limits.files)) {
      grant.refusal = QuotaReservation::Refusal::files;
      return {};
    }
    // The file a plain STOR replaces stops counting from its first grant.
    const std::int64_t replaced = static_cast<std::int64_t>(r.replaced);
    std::uint64_t bytes = r.want;
    if (r.limits.bytes != 0) {
      const std::int64_t room = static_cast<std::int64_t>(r.limits.bytes) - (used_bytes - replaced);
      if (room < static_cast<std::int64_t>(r.need)) {
        grant.refusal = QuotaReservation::Refusal::bytes;
        return {};
      }
      bytes = std::min<std::uint64_t>(r.want, static_cast<std::uint64_t>(room));
    }
    bytes = std::max(bytes, r.need);
    auto put = db_.query(
        "INSERT INTO quota_reservations AS q (node, upload_id, user_name, bytes, files) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (node, upload_id) DO UPDATE SET "
        "bytes = q.bytes + excluded.bytes, files = q.files + excluded.files",
        {node_, text(static_cast<std::int64_t>(r.upload)), r.user,
         text(static_cast<std::int64_t>(bytes) - replaced), text(files)},
        nullptr, error);
    if (!put) return put.error();
    grant.bytes = bytes;
    return {};
  });
  if (ec) return ec;
  return grant;
}

std::error_code ClusterLedger::quota_commit(std::uint64_t upload, const std::string& user,
                                            std::uint64_t written, std::uint64_t replaced,
                                            bool new_file, bool measure_again, std::string* error) {
  return transaction(error, [&]() -> std::error_code {
    auto gone = db_.query("DELETE FROM quota_reservations WHERE node = $1 AND upload_id = $2",
                          {node_, text(static_cast<std::int64_t>(upload))}, nullptr, error);
    if (!gone) return gone.error();
    auto done = db_.query(
        "UPDATE quota_usage SET bytes = GREATEST(0, bytes + $2 - $3), files = files + $4, "
        "changes = changes + 1, stale = CASE WHEN $5 THEN 1 ELSE stale END WHERE user_name = $1",
        {user, text(static_cast<std::int64_t>(written)), text(static_cast<std::int64_t>(replaced)),
         text(new_file ? 1 : 0), measure_again ? "true" : "false"},
        nullptr, error);
    return done ? std::error_code{} : done.error();
  });
}

std::error_code ClusterLedger::quota_release(std::uint64_t upload, std::string* error) {
  auto done = db_.query("DELETE FROM quota_reservations WHERE node = $1 AND upload_id = $2",
                        {node_, text(static_cast<std::int64_t>(upload))}, nullptr, error);
  return done ? std::error_code{} : done.error();
}

std::error_code ClusterLedger::quota_invalidate(const std::string& user, std::string* error) {
  auto done =
      db_.query("UPDATE quota_usage SET stale = 1, changes = changes + 1 WHERE user_name = $1",
                {user}, nullptr, error);
  return done ? std::error_code{} : done.error();
}

}  // namespace muxio::ftpd
