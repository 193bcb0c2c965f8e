#include "ftpd/sqlite_user_store.hpp"

#include <sqlite3.h>

namespace muxio::ftpd {
namespace {

// Finalises a prepared statement on every way out.
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

}  // namespace

SqliteUserStore::SqliteUserStore(std::string path, const UserStoreOptions& options)
    : path_(std::move(path)), options_(options) {}

SqliteUserStore::~SqliteUserStore() {
  sqlite3_close_v2(db_);
}

bool SqliteUserStore::open(bool create, std::string* error) {
  if (db_ != nullptr) return true;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    *error = describe() + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close_v2(db);
    return false;
  }
  sqlite3_busy_timeout(db, static_cast<int>(options_.timeout.count() * 1000));
  db_ = db;
  return true;
}

std::error_code SqliteUserStore::exec(const std::string& sql, std::string* error) {
  if (!open(false, error)) return errno_code(EIO);
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    *error = describe() + ": " + (message != nullptr ? message : "error");
    sqlite3_free(message);
    return errno_code(EIO);
  }
  return {};
}

Result<int> SqliteUserStore::query(const char* sql, const SqlRow& params, std::vector<SqlRow>* rows,
                                   std::string* error) {
  if (!open(false, error)) return errno_code(EIO);
  auto fail = [&] {
    *error = describe() + ": " + sqlite3_errmsg(db_);
    return errno_code(EIO);
  };
  Statement s;
  const std::string text = sqlite_sql(sql);
  if (sqlite3_prepare_v2(db_, text.c_str(), -1, &s.stmt, nullptr) != SQLITE_OK) return fail();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const int rc = params[i]
                       ? sqlite3_bind_text(s.stmt, index, params[i]->c_str(), -1, SQLITE_TRANSIENT)
                       : sqlite3_bind_null(s.stmt, index);
    if (rc != SQLITE_OK) return fail();
  }
  int rc = 0;
  while ((rc = sqlite3_step(s.stmt)) == SQLITE_ROW) {
    if (rows == nullptr) continue;
    SqlRow row;
    for (int c = 0; c < sqlite3_column_count(s.stmt); ++c) {
      const auto* v = sqlite3_column_text(s.stmt, c);
      row.push_back(v != nullptr ? std::optional<std::string>(reinterpret_cast<const char*>(v))
                                 : std::nullopt);
    }
    rows->push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return fail();
  return sqlite3_changes(db_);
}

const char* SqliteUserStore::table_exists_sql() const {
  return "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1";
}

std::error_code SqliteUserStore::prepare_init(std::string* error) {
  if (!open(true, error)) return errno_code(EIO);
  // Logins read on while a writer (`muxftpd user add`) commits.
  return exec("PRAGMA journal_mode = WAL", error);
}

}  // namespace muxio::ftpd
