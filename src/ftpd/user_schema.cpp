#include "ftpd/user_schema.hpp"

#include "muxio/result.hpp"

namespace muxio::ftpd {
namespace {

// Version 1: accounts as the users file has them. Version 2: per-user overrides of the global
// limits, NULL meaning "the server's setting". Version 3: what the nodes of a cluster share
// (cluster_ledger.hpp); times are Unix seconds of the database's clock.
constexpr SchemaMigration kMigrations[] = {
    {1,
     "CREATE TABLE schema_version (version INTEGER NOT NULL);"
     "INSERT INTO schema_version (version) VALUES (0);"
     "CREATE TABLE users ("
     "  name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),"
     "  password_hash TEXT NOT NULL,"
     "  permissions TEXT NOT NULL DEFAULT 'lr',"
     "  home TEXT NOT NULL DEFAULT ''"
     ")"},
    {2,
     "ALTER TABLE users ADD COLUMN download_rate BIGINT CHECK (download_rate >= 0);"
     "ALTER TABLE users ADD COLUMN upload_rate BIGINT CHECK (upload_rate >= 0);"
     "ALTER TABLE users ADD COLUMN user_download_rate BIGINT CHECK (user_download_rate >= 0);"
     "ALTER TABLE users ADD COLUMN user_upload_rate BIGINT CHECK (user_upload_rate >= 0);"
     "ALTER TABLE users ADD COLUMN quota_bytes BIGINT CHECK (quota_bytes >= 0);"
     "ALTER TABLE users ADD COLUMN quota_files BIGINT CHECK (quota_files >= 0);"
     "ALTER TABLE users ADD COLUMN max_sessions BIGINT CHECK (max_sessions >= 0)"},
    {3,
     "CREATE TABLE cluster_nodes ("
     "  name TEXT PRIMARY KEY,"
     "  seen_at BIGINT NOT NULL"
     ");"
     "CREATE TABLE cluster_sessions ("
     "  node TEXT NOT NULL,"
     "  session_id BIGINT NOT NULL,"
     "  user_name TEXT NOT NULL,"
     "  PRIMARY KEY (node, session_id)"
     ");"
     "CREATE INDEX cluster_sessions_by_user ON cluster_sessions (user_name);"
     "CREATE TABLE login_failures ("
     "  address TEXT PRIMARY KEY,"
     "  failures INTEGER NOT NULL,"
     "  last_failure BIGINT NOT NULL,"
     "  banned_until BIGINT NOT NULL"
     ");"
     "CREATE TABLE quota_usage ("
     "  user_name TEXT PRIMARY KEY,"
     "  bytes BIGINT NOT NULL,"
     "  files BIGINT NOT NULL,"
     "  changes BIGINT NOT NULL,"
     "  stale INTEGER NOT NULL,"
     "  measured_at BIGINT NOT NULL"
     ");"
     "CREATE TABLE quota_reservations ("
     "  node TEXT NOT NULL,"
     "  upload_id BIGINT NOT NULL,"
     "  user_name TEXT NOT NULL,"
     "  bytes BIGINT NOT NULL,"
     "  files BIGINT NOT NULL,"
     "  PRIMARY KEY (node, upload_id)"
     ");"
     "CREATE INDEX quota_reservations_by_user ON quota_reservations (user_name)"},
};

}  // namespace

std::span<const SchemaMigration> user_schema_migrations() {
  return kMigrations;
}

int latest_user_schema_version() {
  return kMigrations[std::size(kMigrations) - 1].version;
}

std::error_code apply_user_schema_migrations(int from, const SqlExec& exec, std::string* error) {
  if (from > latest_user_schema_version()) {
    *error = "the database's schema is at version " + std::to_string(from) +
             ", newer than this muxftpd knows (" + std::to_string(latest_user_schema_version()) +
             ")";
    return errno_code(EINVAL);
  }
  for (const auto& m : kMigrations) {
    if (m.version <= from) continue;
    std::string sql = "BEGIN;" + std::string(m.sql) +
                      ";UPDATE schema_version SET version = " + std::to_string(m.version) +
                      ";COMMIT";
    if (auto ec = exec(sql, error)) {
      std::string ignored;
      (void)exec("ROLLBACK", &ignored);
      *error = "migration to version " + std::to_string(m.version) + ": " + *error;
      return ec;
    }
  }
  return {};
}

}  // namespace muxio::ftpd
