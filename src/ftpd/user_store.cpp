#include "ftpd/user_store.hpp"

#include "ftpd/postgres_user_store.hpp"
#include "ftpd/sqlite_user_store.hpp"
#include "ftpd/user_schema.hpp"
#include "ftpd/users_file_store.hpp"

namespace muxio::ftpd {
namespace {

constexpr std::string_view kFile = "file:";
constexpr std::string_view kSqlite = "sqlite:";
constexpr std::string_view kPostgres[] = {"postgresql:", "postgres:"};

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::error_code UserStore::init_schema(std::string* error) {
  *error = "a users file has no schema to initialise";
  return errno_code(ENOTSUP);
}

std::error_code UserStore::migrate_schema(std::string* error) {
  *error = "a users file has no schema to migrate";
  return errno_code(ENOTSUP);
}

Result<int> UserStore::schema_version(std::string*) {
  return latest_user_schema_version();
}

bool is_users_file_spec(const std::string& spec) {
  return starts_with(spec, kFile);
}

std::string users_file_of_spec(const std::string& spec) {
  return spec.substr(kFile.size());
}

std::optional<std::string> postgres_conninfo_of_spec(const std::string& spec) {
  // "postgresql://..." is a URI libpq reads whole; "postgresql:host=... dbname=..." a key list.
  if (starts_with(spec, "postgresql://") || starts_with(spec, "postgres://")) return spec;
  for (auto prefix : kPostgres) {
    if (starts_with(spec, prefix)) return spec.substr(prefix.size());
  }
  return std::nullopt;
}

std::unique_ptr<UserStore> open_user_store(const std::string& spec, const UserStoreOptions& options,
                                           std::string* error) {
  if (is_users_file_spec(spec) && spec.size() > kFile.size()) {
    return std::make_unique<UsersFileStore>(users_file_of_spec(spec));
  }
  if (starts_with(spec, kSqlite) && spec.size() > kSqlite.size()) {
    return std::make_unique<SqliteUserStore>(spec.substr(kSqlite.size()), options);
  }
  if (auto conninfo = postgres_conninfo_of_spec(spec)) {
    return std::make_unique<PostgresUserStore>(*conninfo, options);
  }
  *error = "user store '" + spec +
           "': expected file:PATH, sqlite:PATH or postgresql:CONNINFO (or a postgresql:// URI)";
  return nullptr;
}

}  // namespace muxio::ftpd
