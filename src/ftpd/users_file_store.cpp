#include "ftpd/users_file_store.hpp"

#include <algorithm>
#include <fstream>

namespace muxio::ftpd {
namespace {

bool has_overrides(const UserLimits& l) {
  return l.download_rate || l.upload_rate || l.user_download_rate || l.user_upload_rate ||
         l.quota_bytes || l.quota_files || l.max_sessions;
}

}  // namespace

UserStore::Lookup UsersFileStore::find(const std::string& name) {
  Lookup out;
  auto db = UserDb::load_file(path_, &out.error);
  if (!db) {
    out.status = Lookup::Status::unavailable;
    return out;
  }
  if (const User* u = db->find(name)) {
    out.status = Lookup::Status::found;
    out.user = *u;
  }
  return out;
}

std::error_code UsersFileStore::put(const User& user, std::string* error) {
  if (has_overrides(user.limits)) {
    *error = "a users file has no per-user limits: use a database store (sqlite: or postgresql:)";
    return errno_code(EINVAL);
  }
  auto ec = edit_users_file(path_, user.name, [&](const User*) { return user; });
  if (ec) *error = path_ + ": " + ec.message();
  return ec;
}

std::error_code UsersFileStore::remove(const std::string& name, std::string* error) {
  auto ec = edit_users_file(path_, name, [](const User*) { return std::optional<User>(); });
  if (ec && ec != errno_code(ENOENT)) *error = path_ + ": " + ec.message();
  return ec;
}

Result<std::vector<User>> UsersFileStore::list(std::string* error) {
  std::vector<User> users;
  std::ifstream in(path_);
  if (!in) return users;  // no file yet: nobody
  std::string line;
  while (std::getline(in, line)) {
    if (auto u = parse_users_line(line)) users.push_back(std::move(*u));
  }
  std::sort(users.begin(), users.end(),
            [](const User& a, const User& b) { return a.name < b.name; });
  (void)error;
  return users;
}

}  // namespace muxio::ftpd
