// UserStore: where accounts live — a users file, an SQLite database (one node) or PostgreSQL
// (several nodes sharing one). `muxftpd user add|del|passwd|list` and `muxftpd db init|migrate`
// work through it, and the server looks users up in the database stores through it
// (user_store_client.hpp). Every call may block (disk, network): never call one on an event loop.
// One object is one connection: not for two threads at once.
//
// Spec strings select a store: "file:PATH", "sqlite:PATH", "postgresql:CONNINFO" (a libpq
// connection string or postgresql:// URI).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "ftpd/user_db.hpp"
#include "muxio/result.hpp"

namespace muxio::ftpd {

class UserStore {
 public:
  struct Lookup {
    enum class Status { found, not_found, unavailable };
    Status status = Status::not_found;
    User user;          // when found
    std::string error;  // when unavailable: why, for the log
  };

  virtual ~UserStore() = default;

  virtual Lookup find(const std::string& name) = 0;
  // Adds the user, or replaces every field of the one with that name.
  virtual std::error_code put(const User& user, std::string* error) = 0;
  // ENOENT when there is no such user.
  virtual std::error_code remove(const std::string& name, std::string* error) = 0;
  virtual Result<std::vector<User>> list(std::string* error) = 0;

  // The schema (database stores; a users file has none): init creates it in an empty database,
  // migrate brings an existing one to the version this program knows. ENOTSUP for files.
  virtual std::error_code init_schema(std::string* error);
  virtual std::error_code migrate_schema(std::string* error);
  // The schema version found, 0 for none; for files, the latest.
  virtual Result<int> schema_version(std::string* error);
};

struct UserStoreOptions {
  // Bounds every database round trip: connecting, and each statement.
  std::chrono::seconds timeout{5};
};

// A store for spec (nothing connects yet: a database that is down is found out at the first
// call). Null, with *error set, for a malformed spec.
std::unique_ptr<UserStore> open_user_store(const std::string& spec, const UserStoreOptions& options,
                                           std::string* error);

// A users file is read whole into memory by the server (UserDb, reloaded on SIGHUP); the
// database stores are asked per login.
bool is_users_file_spec(const std::string& spec);
// "file:PATH" -> PATH.
std::string users_file_of_spec(const std::string& spec);
// The libpq connection string or URI of a PostgreSQL spec; nullopt for other stores.
std::optional<std::string> postgres_conninfo_of_spec(const std::string& spec);

}  // namespace muxio::ftpd
