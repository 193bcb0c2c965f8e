// PostgresUserStore: accounts in PostgreSQL (libpq), shared by every node of a cluster, over one
// PgConnection (bounded round trips, reconnection after a restart).
#pragma once

#include "ftpd/pg_connection.hpp"
#include "ftpd/sql_user_store.hpp"

namespace muxio::ftpd {

class PostgresUserStore final : public SqlUserStore {
 public:
  PostgresUserStore(std::string conninfo, const UserStoreOptions& options)
      : connection_(std::move(conninfo), options.timeout) {}

 protected:
  Result<int> query(const char* sql, const SqlRow& params, std::vector<SqlRow>* rows,
                    std::string* error) override {
    return connection_.query(sql, params, rows, error);
  }
  std::error_code exec(const std::string& sql, std::string* error) override {
    return connection_.exec(sql, error);
  }
  const char* table_exists_sql() const override { return "SELECT to_regclass($1) IS NOT NULL"; }
  std::string describe() const override { return "postgresql"; }

 private:
  PgConnection connection_;
};

}  // namespace muxio::ftpd
