// UsersFileStore: the users file (user_db.hpp) as a UserStore, for `muxftpd user ...`. Every
// call reads the file again, and every change rewrites it atomically. The file has no columns
// for per-user limits: a user with overrides is refused (EINVAL) rather than saved without them.
#pragma once

#include "ftpd/user_store.hpp"

namespace muxio::ftpd {

class UsersFileStore final : public UserStore {
 public:
  explicit UsersFileStore(std::string path) : path_(std::move(path)) {}

  Lookup find(const std::string& name) override;
  std::error_code put(const User& user, std::string* error) override;
  std::error_code remove(const std::string& name, std::string* error) override;
  Result<std::vector<User>> list(std::string* error) override;

 private:
  std::string path_;
};

}  // namespace muxio::ftpd
