#include "ftpd/user_rows.hpp"

#include <charconv>
#include <iterator>

namespace muxio::ftpd {

const char* const kSelectUserSql =
    "SELECT name, password_hash, permissions, home, download_rate, upload_rate, "
    "user_download_rate, user_upload_rate, quota_bytes, quota_files, max_sessions "
    "FROM users WHERE name = $1";
const char* const kListUsersSql =
    "SELECT name, password_hash, permissions, home, download_rate, upload_rate, "
    "user_download_rate, user_upload_rate, quota_bytes, quota_files, max_sessions "
    "FROM users ORDER BY name";
const char* const kPutUserSql =
    "INSERT INTO users (name, password_hash, permissions, home, download_rate, upload_rate, "
    "user_download_rate, user_upload_rate, quota_bytes, quota_files, max_sessions) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, "
    "permissions = excluded.permissions, home = excluded.home, "
    "download_rate = excluded.download_rate, upload_rate = excluded.upload_rate, "
    "user_download_rate = excluded.user_download_rate, "
    "user_upload_rate = excluded.user_upload_rate, quota_bytes = excluded.quota_bytes, "
    "quota_files = excluded.quota_files, max_sessions = excluded.max_sessions";
const char* const kDeleteUserSql = "DELETE FROM users WHERE name = $1";

namespace {

constexpr std::size_t kColumns = 11;
constexpr std::size_t kFirstLimit = 4;

// The limit columns, in row order.
std::optional<std::uint64_t> UserLimits::*const kLimitColumns[] = {
    &UserLimits::download_rate,    &UserLimits::upload_rate, &UserLimits::user_download_rate,
    &UserLimits::user_upload_rate, &UserLimits::quota_bytes, &UserLimits::quota_files,
    &UserLimits::max_sessions};

std::optional<std::uint64_t> parse_count(const std::string& text) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

SqlRow user_to_row(const User& user) {
  SqlRow row{user.name, user.password_hash, permissions_to_string(user.permissions), user.home};
  for (auto field : kLimitColumns) {
    const auto& v = user.limits.*field;
    row.push_back(v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt);
  }
  return row;
}

std::optional<User> user_from_row(const SqlRow& row, std::string* error) {
  if (row.size() != kColumns || !row[0] || !row[1] || !row[2] || !row[3]) {
    *error = "unexpected row shape in users";
    return std::nullopt;
  }
  User u;
  u.name = *row[0];
  u.password_hash = *row[1];
  u.home = *row[3];
  auto perms = parse_permissions(*row[2]);
  if (!perms) {
    *error = "user " + u.name + ": unknown permission letters '" + *row[2] + "'";
    return std::nullopt;
  }
  u.permissions = *perms;
  for (std::size_t i = 0; i < std::size(kLimitColumns); ++i) {
    const auto& cell = row[kFirstLimit + i];
    if (!cell) continue;
    auto v = parse_count(*cell);
    if (!v) {
      *error = "user " + u.name + ": a limit is not a count: '" + *cell + "'";
      return std::nullopt;
    }
    u.limits.*kLimitColumns[i] = *v;
  }
  return u;
}

std::string sqlite_sql(const char* sql) {
  std::string s = sql;
  for (char& c : s) {
    if (c == '$') c = '?';
  }
  return s;
}

}  // namespace muxio::ftpd
