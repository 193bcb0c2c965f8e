#include "ftpd/user_db.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>

#include "ftpd/password.hpp"

namespace muxio::ftpd {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep, std::size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    auto i = s.find(sep);
    if (i == std::string_view::npos) break;
    parts.push_back(s.substr(0, i));
    s.remove_prefix(i + 1);
  }
  parts.push_back(s);
  return parts;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (c <= ' ' || c == ':' || c == 0x7f) return false;
  }
  return true;
}

std::string_view trim_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
    line.remove_suffix(1);
  return line;
}

}  // namespace

std::optional<User> parse_users_line(std::string_view line) {
  auto parts = split(trim_line(line), ':', 4);
  if (parts.size() != 4 || !valid_name(parts[0]) || parts[1].empty()) return std::nullopt;
  auto perms = parse_permissions(parts[2]);
  if (!perms) return std::nullopt;
  User u;
  u.name = parts[0];
  u.password_hash = parts[1];
  u.permissions = *perms;
  u.home = parts[3];
  return u;
}

std::string format_users_line(const User& u) {
  return u.name + ":" + u.password_hash + ":" + permissions_to_string(u.permissions) + ":" + u.home;
}

Result<UserDb> UserDb::load_file(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read users file " + path;
    return errno_code(errno != 0 ? errno : ENOENT);
  }
  UserDb db;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string_view v = trim_line(line);
    if (v.empty() || v.front() == '#') continue;
    auto user = parse_users_line(v);
    if (!user) {
      *error = path + ":" + std::to_string(number) + ": expected NAME:HASH:PERMISSIONS:HOME";
      return errno_code(EINVAL);
    }
    db.add(std::move(*user));
  }
  return db;
}

Result<UserDb> UserDb::load(const std::string& users_file, const std::vector<User>& extra,
                            std::string* error) {
  UserDb db;
  if (!users_file.empty()) {
    auto from_file = load_file(users_file, error);
    if (!from_file) return from_file.error();
    db = std::move(*from_file);
  }
  for (const auto& u : extra)
    db.add(u);
  return db;
}

std::optional<User> UserDb::parse_user_flag(std::string_view flag) {
  auto parts = split(flag, ':', 3);
  if (parts.size() < 2 || !valid_name(parts[0]) || parts[1].empty()) return std::nullopt;
  User u;
  u.name = parts[0];
  u.plain_password = parts[1];
  u.permissions = kAllPermissions;
  if (parts.size() == 3) {
    auto perms = parse_permissions(parts[2]);
    if (!perms) return std::nullopt;
    u.permissions = *perms;
  }
  return u;
}

void UserDb::add(User user) {
  std::string name = user.name;
  users_.insert_or_assign(std::move(name), std::move(user));
}

const User* UserDb::find(std::string_view name) const {
  auto it = users_.find(std::string(name));
  return it == users_.end() ? nullptr : &it->second;
}

namespace {

// Writes lines to path through a temporary and a rename: readers see the old file or the new.
std::error_code replace_file(const std::string& path, const std::vector<std::string>& lines) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_code(errno);
  std::string text;
  for (const auto& l : lines)
    text += l + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) err = errno;
    ::unlink(tmp.c_str());
    return errno_code(err);
  }
  return {};
}

}  // namespace

std::error_code edit_users_file(const std::string& path, const std::string& name,
                                const UserEdit& edit) {
  if (!valid_name(name)) return errno_code(EINVAL);
  std::vector<std::string> lines;
  {
    std::ifstream in(path);
    std::string line;
    while (in && std::getline(in, line))
      lines.push_back(line);
  }
  bool found = false;
  std::vector<std::string> kept;
  for (auto& line : lines) {
    auto user = parse_users_line(line);
    if (!user || user->name != name) {
      kept.push_back(std::move(line));
      continue;
    }
    found = true;
    if (auto changed = edit(&*user)) kept.push_back(format_users_line(*changed));
  }
  if (!found) {
    auto added = edit(nullptr);
    if (!added) return errno_code(ENOENT);
    kept.push_back(format_users_line(*added));
  }
  return replace_file(path, kept);
}

std::error_code set_user_hash(const std::string& path, const std::string& name,
                              const std::string& hash, Permissions new_user_permissions) {
  return edit_users_file(path, name, [&](const User* old) -> std::optional<User> {
    User u;
    if (old != nullptr) {
      u = *old;
    } else {
      u.name = name;
      u.permissions = new_user_permissions;
    }
    u.password_hash = hash;
    return u;
  });
}

}  // namespace muxio::ftpd
