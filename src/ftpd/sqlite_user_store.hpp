// SqliteUserStore: accounts in an SQLite database file (libsqlite3), the embedded store for a
// single node that wants a database rather than a users file. The file is opened at the first
// call (and created only by `db init`); writers wait up to the store timeout for a lock (busy
// timeout), and readers do not wait for writers (WAL, set by `db init`).
#pragma once

#include "ftpd/sql_user_store.hpp"

struct sqlite3;

namespace muxio::ftpd {

class SqliteUserStore final : public SqlUserStore {
 public:
  SqliteUserStore(std::string path, const UserStoreOptions& options);
  ~SqliteUserStore() override;

 protected:
  Result<int> query(const char* sql, const SqlRow& params, std::vector<SqlRow>* rows,
                    std::string* error) override;
  std::error_code exec(const std::string& sql, std::string* error) override;
  const char* table_exists_sql() const override;
  std::error_code prepare_init(std::string* error) override;
  std::string describe() const override { return "sqlite " + path_; }

 private:
  // create: make the file if missing (db init only).
  bool open(bool create, std::string* error);

  std::string path_;
  UserStoreOptions options_;
  sqlite3* db_ = nullptr;
};

}  // namespace muxio::ftpd
