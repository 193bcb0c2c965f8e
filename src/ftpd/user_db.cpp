#include "ftpd/user_db.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>

#include "ftpd/password.hpp"
#include "muxio/unique_fd.hpp"

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

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Every byte, or an error: a short write sets no errno (a full disk shows as a short count),
// and is EIO here rather than a success.
std::error_code write_whole(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_code(errno);
    if (n == 0) return errno_code(EIO);
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// The lines of the file at path; none when it does not exist yet. Any other failure is an
// error: rewriting a file that could not be read would drop its users.
Result<std::vector<std::string>> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return lines;
    return errno_code(errno);
  }
  UniqueFd file(fd);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(file.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_code(errno);
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

// Writes lines to path through a temporary of its own in the same directory (two runs at once
// never share one) and a rename: readers see the old file or the new. The new file gets the old
// one's owner (where allowed: an administrator running the tool as root must not leave the
// server a file it cannot read) and its owner and group permissions, never others' (the file
// holds password hashes); it and the directory are fsynced, so the change survives a crash once
// reported.
std::error_code replace_file(const std::string& path, int dir_fd,
                             const std::vector<std::string>& lines) {
  std::string tmp = path + ".XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return errno_code(errno);
  UniqueFd file(fd);
  auto fail = [&](std::error_code ec) {
    ::unlink(tmp.c_str());
    return ec;
  };
  struct stat old {};
  if (::stat(path.c_str(), &old) == 0) {
    if (::fchmod(file.get(), old.st_mode & 0660) < 0) return fail(errno_code(errno));
    (void)::fchown(file.get(), old.st_uid, old.st_gid);  // EPERM unless root: keep ours
  } else if (::fchmod(file.get(), 0600) < 0) {
    return fail(errno_code(errno));
  }
  std::string text;
  for (const auto& l : lines)
    text += l + "\n";
  if (auto ec = write_whole(file.get(), text)) return fail(ec);
  if (::fsync(file.get()) < 0) return fail(errno_code(errno));
  if (auto ec = file.close()) return fail(ec);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(errno_code(errno));
  if (::fsync(dir_fd) < 0) return errno_code(errno);
  return {};
}

}  // namespace

std::error_code edit_users_file(const std::string& path, const std::string& name,
                                const UserEdit& edit) {
  if (!valid_name(name)) return errno_code(EINVAL);
  // Two edits at once (two `muxftpd user add` runs) take turns: each reads the file the other
  // wrote, so that neither change is lost. The lock is on the directory, which the rename
  // leaves in place (a lock on the file would stay on the replaced one).
  int dfd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return errno_code(errno);
  UniqueFd dir(dfd);
  while (::flock(dir.get(), LOCK_EX) < 0) {
    if (errno != EINTR) return errno_code(errno);
  }
  auto lines = read_lines(path);
  if (!lines) return lines.error();
  bool found = false;
  std::vector<std::string> kept;
  for (auto& line : *lines) {
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
  return replace_file(path, dir.get(), kept);
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
