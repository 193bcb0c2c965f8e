// PgConnection: one libpq connection with bounded round trips, shared by what muxftpd keeps in
// PostgreSQL (the users, and a cluster's shared state). Opened at the first call and opened
// again after the server went away. Every round trip is bounded by `timeout` — connect_timeout
// and tcp_user_timeout on the client's side, statement_timeout on the server's — so a database
// that is down or stuck makes a call fail within about that time instead of hanging. Blocking:
// never on an event loop; one object is for one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "ftpd/sql_row.hpp"
#include "muxio/result.hpp"

struct pg_conn;
struct pg_result;

namespace muxio::ftpd {

class PgConnection {
 public:
  PgConnection(std::string conninfo, std::chrono::seconds timeout);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement (written with $1..$n) with text parameters; each result row to rows if
  // given. Returns the number of rows changed. Outside a transaction, a connection found broken
  // is opened again and the statement retried once: a database restart costs no failed call.
  Result<int> query(const char* sql, const SqlRow& params, std::vector<SqlRow>* rows,
                    std::string* error);
  // Runs several statements without parameters.
  std::error_code exec(const std::string& sql, std::string* error);

  // Statements between begin() and commit() form one transaction, retried by nobody: a caller
  // that fails inside one calls rollback() (harmless when the connection is gone).
  std::error_code begin(std::string* error);
  std::error_code commit(std::string* error);
  void rollback();

 private:
  bool connect(std::string* error);
  // Connected, or (outside a transaction) connected again.
  bool ready(std::string* error);
  void disconnect();
  // The results of what was just sent, within the timeout (else the connection is dropped).
  Result<std::vector<std::unique_ptr<pg_result, void (*)(pg_result*)>>> finish(std::string* error);
  Result<int> query_once(const char* sql, const SqlRow& params, std::vector<SqlRow>* rows,
                         std::string* error);

  std::string conninfo_;
  std::chrono::seconds timeout_;
  pg_conn* conn_ = nullptr;
  bool in_transaction_ = false;
};

}  // namespace muxio::ftpd
