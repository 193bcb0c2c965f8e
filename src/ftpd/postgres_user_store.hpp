// PostgresUserStore: accounts in PostgreSQL (libpq), shared by every node of a cluster. One
// object is one connection, opened at the first call and opened again after the server went
// away. Every round trip is bounded by the store timeout — connect_timeout and tcp_user_timeout
// on the client's side, statement_timeout on the server's — so a database that is down or stuck
// makes a call fail within about that time instead of hanging.
#pragma once

#include "ftpd/sql_user_store.hpp"

struct pg_conn;

namespace muxio::ftpd {

class PostgresUserStore final : public SqlUserStore {
 public:
  PostgresUserStore(std::string conninfo, const UserStoreOptions& options);
  ~PostgresUserStore() override;

 protected:
  // A connection found broken is opened again and the statement retried once: a database
  // restart costs no failed login.
  Result<int> query(const char* sql, const SqlRow& params, std::vector<SqlRow>* rows,
                    std::string* error) override;
  std::error_code exec(const std::string& sql, std::string* error) override;
  const char* table_exists_sql() const override;
  std::string describe() const override { return "postgresql"; }

 private:
  bool connect(std::string* error);
  void disconnect();
  Result<int> query_once(const char* sql, const SqlRow& params, std::vector<SqlRow>* rows,
                         std::string* error);

  std::string conninfo_;
  UserStoreOptions options_;
  pg_conn* conn_ = nullptr;
};

}  // namespace muxio::ftpd
