// The database stores' schema, one migration per version, in the SQL that SQLite and PostgreSQL
// both accept. schema_version holds one row: the version the database is at. A migration never
// changes once released: a new version adds one at the end.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace muxio::ftpd {

struct SchemaMigration {
  int version;
  std::string_view sql;  // statements separated by ';'
};

std::span<const SchemaMigration> user_schema_migrations();
int latest_user_schema_version();

// Runs one SQL text (several statements) on a database connection.
using SqlExec = std::function<std::error_code(const std::string& sql, std::string* error)>;

// Brings a database at version `from` (0: empty) to the latest, each migration in a transaction
// of its own that also records its version. EINVAL for a database newer than this program.
std::error_code apply_user_schema_migrations(int from, const SqlExec& exec, std::string* error);

}  // namespace muxio::ftpd
