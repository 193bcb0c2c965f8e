// SqlUserStore: what the SQLite and PostgreSQL stores share — the statements on `users`, the
// schema version and the migrations — over the few calls each engine provides.
#pragma once

#include "ftpd/user_rows.hpp"
#include "ftpd/user_store.hpp"

namespace muxio::ftpd {

class SqlUserStore : public UserStore {
 public:
  Lookup find(const std::string& name) override;
  std::error_code put(const User& user, std::string* error) override;
  std::error_code remove(const std::string& name, std::string* error) override;
  Result<std::vector<User>> list(std::string* error) override;
  std::error_code init_schema(std::string* error) override;
  std::error_code migrate_schema(std::string* error) override;
  Result<int> schema_version(std::string* error) override;

 protected:
  // Runs one statement (sql written with $1..$n) with text parameters, NULL for nullopt; each
  // result row to rows if given. Returns the number of rows changed.
  virtual Result<int> query(const char* sql, const SqlRow& params, std::vector<SqlRow>* rows,
                            std::string* error) = 0;
  // Runs several statements without parameters.
  virtual std::error_code exec(const std::string& sql, std::string* error) = 0;
  // A statement returning one row, whose only column is true when the table exists ($1).
  virtual const char* table_exists_sql() const = 0;
  // Before the first migration of an empty database.
  virtual std::error_code prepare_init(std::string*) { return {}; }
  // "sqlite PATH", "postgresql": how errors name the database.
  virtual std::string describe() const = 0;
};

}  // namespace muxio::ftpd
