#include "ftpd/postgres_user_store.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <memory>

namespace muxio::ftpd {
namespace {

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string pg_error(PGconn* conn) {
  std::string text = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return "postgresql: " + text;
}

bool succeeded(const PGresult* r) {
  auto status = PQresultStatus(r);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

}  // namespace

PostgresUserStore::PostgresUserStore(std::string conninfo, const UserStoreOptions& options)
    : conninfo_(std::move(conninfo)), options_(options) {}

PostgresUserStore::~PostgresUserStore() {
  disconnect();
}

void PostgresUserStore::disconnect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

bool PostgresUserStore::connect(std::string* error) {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return true;
  disconnect();
  const long seconds = std::max<long>(1, options_.timeout.count());
  const std::string connect_timeout = std::to_string(seconds);
  const std::string millis = std::to_string(seconds * 1000);
  // dbname first: a connection string there is expanded, and the keys after it win over it.
  const char* keys[] = {"dbname", "connect_timeout", "tcp_user_timeout", "application_name",
                        nullptr};
  const char* values[] = {conninfo_.c_str(), connect_timeout.c_str(), millis.c_str(), "muxftpd",
                          nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = pg_error(conn);
    PQfinish(conn);
    return false;
  }
  conn_ = conn;
  // The server's side: a statement stuck behind a lock ends in an error, not a wait.
  ResultPtr r(PQexec(conn_, ("SET statement_timeout = " + millis).c_str()), &PQclear);
  if (!succeeded(r.get())) {
    *error = pg_error(conn_);
    disconnect();
    return false;
  }
  return true;
}

std::error_code PostgresUserStore::exec(const std::string& sql, std::string* error) {
  if (!connect(error)) return errno_code(EIO);
  ResultPtr r(PQexec(conn_, sql.c_str()), &PQclear);
  if (!succeeded(r.get())) {
    *error = pg_error(conn_);
    return errno_code(EIO);
  }
  return {};
}

Result<int> PostgresUserStore::query_once(const char* sql, const SqlRow& params,
                                          std::vector<SqlRow>* rows, std::string* error) {
  std::vector<const char*> values;
  for (const auto& p : params)
    values.push_back(p ? p->c_str() : nullptr);
  ResultPtr r(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(),
                           nullptr, nullptr, 0),
              &PQclear);
  if (!succeeded(r.get())) {
    *error = pg_error(conn_);
    return errno_code(EIO);
  }
  for (int i = 0; rows != nullptr && i < PQntuples(r.get()); ++i) {
    SqlRow row;
    for (int c = 0; c < PQnfields(r.get()); ++c) {
      row.push_back(PQgetisnull(r.get(), i, c)
                        ? std::nullopt
                        : std::optional<std::string>(PQgetvalue(r.get(), i, c)));
    }
    rows->push_back(std::move(row));
  }
  const char* changed = PQcmdTuples(r.get());
  return changed[0] != '\0' ? std::atoi(changed) : 0;
}

Result<int> PostgresUserStore::query(const char* sql, const SqlRow& params,
                                     std::vector<SqlRow>* rows, std::string* error) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!connect(error)) return errno_code(EIO);
    auto done = query_once(sql, params, rows, error);
    if (done || PQstatus(conn_) == CONNECTION_OK) return done;
    disconnect();  // the server went away (a restart, a failover): once more, newly connected
  }
  return errno_code(EIO);
}

const char* PostgresUserStore::table_exists_sql() const {
  return "SELECT to_regclass($1) IS NOT NULL";
}

}  // namespace muxio::ftpd
