#include "ftpd/sql_user_store.hpp"

#include "ftpd/user_schema.hpp"

namespace muxio::ftpd {

UserStore::Lookup SqlUserStore::find(const std::string& name) {
  Lookup out;
  std::vector<SqlRow> rows;
  auto got = query(kSelectUserSql, {name}, &rows, &out.error);
  if (!got) {
    out.status = Lookup::Status::unavailable;
    return out;
  }
  if (rows.empty()) return out;
  auto user = user_from_row(rows.front(), &out.error);
  if (!user) {
    out.status = Lookup::Status::unavailable;
    return out;
  }
  out.status = Lookup::Status::found;
  out.user = std::move(*user);
  return out;
}

std::error_code SqlUserStore::put(const User& user, std::string* error) {
  auto done = query(kPutUserSql, user_to_row(user), nullptr, error);
  return done ? std::error_code{} : done.error();
}

std::error_code SqlUserStore::remove(const std::string& name, std::string* error) {
  auto done = query(kDeleteUserSql, {name}, nullptr, error);
  if (!done) return done.error();
  return *done == 0 ? errno_code(ENOENT) : std::error_code{};
}

Result<std::vector<User>> SqlUserStore::list(std::string* error) {
  std::vector<SqlRow> rows;
  auto done = query(kListUsersSql, {}, &rows, error);
  if (!done) return done.error();
  std::vector<User> users;
  for (const auto& row : rows) {
    auto user = user_from_row(row, error);
    if (!user) return errno_code(EINVAL);
    users.push_back(std::move(*user));
  }
  return users;
}

Result<int> SqlUserStore::schema_version(std::string* error) {
  std::vector<SqlRow> rows;
  auto found = query(table_exists_sql(), {"schema_version"}, &rows, error);
  if (!found) return found.error();
  if (rows.size() != 1 || !rows[0][0] || (*rows[0][0] != "t" && *rows[0][0] != "1")) return 0;
  rows.clear();
  auto got = query("SELECT version FROM schema_version", {}, &rows, error);
  if (!got) return got.error();
  if (rows.size() != 1 || !rows[0][0]) {
    *error = describe() + ": schema_version must hold one row";
    return errno_code(EINVAL);
  }
  return std::atoi(rows[0][0]->c_str());
}

std::error_code SqlUserStore::init_schema(std::string* error) {
  if (auto ec = prepare_init(error)) return ec;
  auto version = schema_version(error);
  if (!version) return version.error();
  if (*version != 0) {
    *error = describe() + ": already initialised (schema version " + std::to_string(*version) +
             "); use `muxftpd db migrate`";
    return errno_code(EEXIST);
  }
  return apply_user_schema_migrations(
      0, [this](const std::string& sql, std::string* e) { return exec(sql, e); }, error);
}

std::error_code SqlUserStore::migrate_schema(std::string* error) {
  auto version = schema_version(error);
  if (!version) return version.error();
  return apply_user_schema_migrations(
      *version, [this](const std::string& sql, std::string* e) { return exec(sql, e); }, error);
}

}  // namespace muxio::ftpd
