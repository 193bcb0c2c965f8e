#include "ftpd/pg_connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string_view>

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

// Every result of the statement(s) sent, waiting at most until deadline: a server that accepts
// the connection but never answers (stopped, paused, queued behind a pooler) must not hold the
// thread longer than the store's timeout, which tcp_user_timeout does not cover (the kernel
// acknowledges what is sent) and statement_timeout cannot (the server is not running).
// Null results with *timed_out set when the deadline passed.
std::vector<ResultPtr> await_results(PGconn* conn, std::chrono::steady_clock::time_point deadline,
                                     bool* timed_out) {
  std::vector<ResultPtr> results;
  *timed_out = false;
  for (;;) {
    while (PQisBusy(conn) != 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        *timed_out = true;
        return results;
      }
      pollfd p{PQsocket(conn), POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
      if (n < 0 && errno != EINTR) return results;
      if (n > 0 && PQconsumeInput(conn) == 0) return results;  // the connection broke
    }
    PGresult* r = PQgetResult(conn);
    if (r == nullptr) return results;
    results.emplace_back(r, &PQclear);
  }
}

}  // namespace

PgConnection::PgConnection(std::string conninfo, std::chrono::seconds timeout)
    : conninfo_(std::move(conninfo)), timeout_(timeout) {}

PgConnection::~PgConnection() {
  disconnect();
}

void PgConnection::disconnect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  in_transaction_ = false;
}

bool PgConnection::connect(std::string* error) {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return true;
  disconnect();
  const long seconds = std::max<long>(1, timeout_.count());
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
  if (exec("SET statement_timeout = " + millis, error)) {
    disconnect();
    return false;
  }
  return true;
}

// Inside a transaction a new connection would run the rest of it outside one (a COMMIT there
// succeeds, having committed nothing): a lost connection is an error until rollback().
bool PgConnection::ready(std::string* error) {
  if (!in_transaction_) return connect(error);
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return true;
  *error = "postgresql: connection lost inside a transaction";
  return false;
}

std::error_code PgConnection::exec(const std::string& sql, std::string* error) {
  if (!ready(error)) return errno_code(EIO);
  if (PQsendQuery(conn_, sql.c_str()) == 0) {
    *error = pg_error(conn_);
    return errno_code(EIO);
  }
  auto results = finish(error);
  if (!results) return results.error();
  for (const auto& r : *results) {
    if (!succeeded(r.get())) {
      *error = pg_error(conn_);
      return errno_code(EIO);
    }
  }
  return {};
}

Result<std::vector<std::unique_ptr<pg_result, void (*)(pg_result*)>>> PgConnection::finish(
    std::string* error) {
  // A second past statement_timeout: a server that is alive ends a slow statement itself, with
  // its own clearer error; this deadline is for one that cannot.
  const auto deadline = timeout_ + std::chrono::seconds(1);
  bool timed_out = false;
  auto results = await_results(conn_, std::chrono::steady_clock::now() + deadline, &timed_out);
  if (timed_out) {
    *error = "postgresql: no answer within " + std::to_string(deadline.count()) + " s";
    disconnect();  // the statement may still run there; this connection is not used again
    return errno_code(ETIMEDOUT);
  }
  if (results.empty()) {
    *error = pg_error(conn_);
    return errno_code(EIO);
  }
  return results;
}

Result<int> PgConnection::query_once(const char* sql, const SqlRow& params,
                                     std::vector<SqlRow>* rows, std::string* error) {
  std::vector<const char*> values;
  for (const auto& p : params)
    values.push_back(p ? p->c_str() : nullptr);
  if (PQsendQueryParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(),
                        nullptr, nullptr, 0) == 0) {
    *error = pg_error(conn_);
    return errno_code(EIO);
  }
  auto results = finish(error);
  if (!results) return results.error();
  ResultPtr& r = results->front();  // one statement: one result
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

Result<int> PgConnection::query(const char* sql, const SqlRow& params, std::vector<SqlRow>* rows,
                                std::string* error) {
  if (in_transaction_) {
    if (!ready(error)) return errno_code(EIO);
    return query_once(sql, params, rows, error);
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!connect(error)) return errno_code(EIO);
    auto done = query_once(sql, params, rows, error);
    // A server that does not answer is not asked twice: the caller's time is spent.
    if (done || done.error() == std::errc::timed_out || PQstatus(conn_) == CONNECTION_OK) {
      return done;
    }
    disconnect();  // the server went away (a restart, a failover): once more, newly connected
  }
  return errno_code(EIO);
}

std::error_code PgConnection::begin(std::string* error) {
  rollback();  // a caller that forgot to end one does not nest the next inside it
  // An idle connection whose server went away (a restart, a failover) still looks connected
  // until used: found broken at BEGIN, where nothing has run yet, it is opened again once.
  if (auto ec = exec("BEGIN", error)) {
    if (ec == std::errc::timed_out || (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK)) {
      return ec;
    }
    disconnect();
    if (auto again = exec("BEGIN", error)) return again;
  }
  in_transaction_ = true;
  return {};
}

// A transaction in which a statement failed answers COMMIT with success and the tag ROLLBACK:
// only the tag COMMIT means committed.
std::error_code PgConnection::commit(std::string* error) {
  if (!ready(error)) {
    rollback();
    return errno_code(EIO);
  }
  in_transaction_ = false;
  if (PQsendQuery(conn_, "COMMIT") == 0) {
    *error = pg_error(conn_);
    return errno_code(EIO);
  }
  auto results = finish(error);
  if (!results) return results.error();
  const PGresult* r = results->front().get();
  const bool committed =
      succeeded(r) && std::string_view(PQcmdStatus(const_cast<PGresult*>(r))) == "COMMIT";
  if (!committed) *error = succeeded(r) ? "postgresql: transaction rolled back" : pg_error(conn_);
  return committed ? std::error_code{} : errno_code(EIO);
}

void PgConnection::rollback() {
  if (!in_transaction_) return;
  in_transaction_ = false;
  std::string ignored;
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) (void)exec("ROLLBACK", &ignored);
}

}  // namespace muxio::ftpd
