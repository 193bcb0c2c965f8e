// UserDb: who may log in, with which password, where their root is and what they may do.
//
// Users file format, one user per line ('#' starts a comment):
//   NAME:HASH:PERMISSIONS:HOME
// HASH is an argon2id or crypt(3) hash (see password.hpp); PERMISSIONS as in permissions.hpp;
// HOME is the user's root directory, absolute or relative to the server's --root, and may be
// empty (the server root). `muxftpd passwd FILE NAME` adds or changes a user.
// Immutable once built; shared read-only by every loop (a reload builds a new one).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ftpd/permissions.hpp"
#include "ftpd/user_limits.hpp"
#include "muxio/result.hpp"

namespace muxio::ftpd {

struct User {
  std::string name;
  std::string password_hash;   // for users files
  std::string plain_password;  // for --user quick-start accounts, compared in constant time
  std::string home;            // empty: the server root
  Permissions permissions = kReadOnly;
  bool anonymous = false;  // any password is accepted
  UserLimits limits;       // overrides of the global limits (database stores)
};

class UserDb {
 public:
  // Parses a users file; errors name the line.
  static Result<UserDb> load_file(const std::string& path, std::string* error);
  // The users file (none if empty) plus the accounts from the command line, which win on a
  // name clash: at start-up, and again on SIGHUP.
  static Result<UserDb> load(const std::string& users_file, const std::vector<User>& extra,
                             std::string* error);
  // "NAME:PASSWORD[:ro|:PERMS]" from --user.
  static std::optional<User> parse_user_flag(std::string_view flag);

  void add(User user);
  const User* find(std::string_view name) const;
  std::size_t size() const { return users_.size(); }

 private:
  std::unordered_map<std::string, User> users_;
};

// One line of a users file, or nullopt if malformed.
std::optional<User> parse_users_line(std::string_view line);
std::string format_users_line(const User& user);

// Rewrites the line of NAME in the users file at path (created if missing, mode 0600)
// atomically: edit gets the user (nullptr when absent) and returns the new one, or nullopt to
// delete it. ENOENT when NAME is absent and edit adds nothing. Other lines, comments included,
// are kept.
using UserEdit = std::function<std::optional<User>(const User* old)>;
std::error_code edit_users_file(const std::string& path, const std::string& name,
                                const UserEdit& edit);

// Adds NAME or changes its hash in the users file at path (created if missing, mode 0600),
// rewriting it atomically. Other lines, comments included, are kept.
std::error_code set_user_hash(const std::string& path, const std::string& name,
                              const std::string& hash, Permissions new_user_permissions);

}  // namespace muxio::ftpd
