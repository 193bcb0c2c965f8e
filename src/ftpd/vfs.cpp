#include "ftpd/vfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "ftp/vpath.hpp"

namespace muxio::ftpd {
namespace {

int sys_openat2(int dirfd, const char* path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags) | O_CLOEXEC;
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

// Escapes are reported as "permission denied": the client learns nothing about the outside.
std::error_code path_error(int err) {
  return errno_code(err == EXDEV ? EACCES : err);
}

constexpr std::size_t kSuffixLength = 12;

bool is_suffix_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s(kSuffixLength, '0');
  for (char& c : s)
    c = digits[rng() % 36];
  return s;
}

}  // namespace

std::string temp_prefix(std::string_view node) {
  std::string prefix(kTempPrefix);
  if (!node.empty()) {
    prefix += node;
    prefix += '.';
  }
  return prefix;
}

bool has_reserved_component(std::string_view vpath) {
  std::size_t start = 0;
  while (start <= vpath.size()) {
    std::size_t slash = vpath.find('/', start);
    std::size_t end = slash == std::string_view::npos ? vpath.size() : slash;
    if (vpath.substr(start, end - start).starts_with(kTempPrefix)) return true;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

bool is_temp_name_of(std::string_view name, std::string_view node) {
  const std::string prefix = temp_prefix(node);
  if (name.size() != prefix.size() + kSuffixLength || !name.starts_with(prefix)) return false;
  for (char c : name.substr(prefix.size())) {
    if (!is_suffix_digit(c)) return false;
  }
  return true;
}

Result<Vfs> Vfs::open_root(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_code(errno);
  Vfs v;
  v.root_ = UniqueFd(fd);
  return v;
}

Result<UniqueFd> Vfs::open_relative(int dirfd, const std::string& rel, int flags,
                                    mode_t mode) const {
  int fd = sys_openat2(dirfd, rel.c_str(), flags, mode);
  if (fd < 0) return path_error(errno);
  return UniqueFd(fd);
}

Result<UniqueFd> Vfs::open(std::string_view vpath, int flags, mode_t mode) const {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer (or reader) forever. It changes
  // nothing for regular files; callers refuse what is not one.
  // (openat2 refuses O_PATH with other flags: a path descriptor never blocks anyway.)
  if (!(flags & O_PATH)) flags |= O_NONBLOCK;
  return open_relative(root_.get(), ftp::to_relative(vpath), flags, mode);
}

Result<struct stat> Vfs::stat(std::string_view vpath) const {
  auto fd = open(vpath, O_PATH);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return errno_code(errno);
  return st;
}

ftp::FileFacts Vfs::facts_of(const struct stat& st, std::string name) {
  ftp::FileFacts f;
  f.name = std::move(name);
  f.type = S_ISDIR(st.st_mode)   ? ftp::FileType::dir
           : S_ISREG(st.st_mode) ? ftp::FileType::file
           : S_ISLNK(st.st_mode) ? ftp::FileType::link
                                 : ftp::FileType::other;
  f.size = static_cast<std::uint64_t>(st.st_size);
  f.mtime = st.st_mtim.tv_sec;
  f.mode = st.st_mode;  // the type bits too: LIST shows p, s, c, b like ls
  f.nlink = st.st_nlink;
  f.owner = "ftp";  // real account names are not the client's business
  f.group = "ftp";
  char unique[40];
  std::snprintf(unique, sizeof unique, "%llxg%llx", static_cast<unsigned long long>(st.st_dev),
                static_cast<unsigned long long>(st.st_ino));
  f.unique = unique;
  return f;
}

Result<std::vector<ftp::FileFacts>> Vfs::list(std::string_view vpath) const {
  auto fd = open(vpath, O_RDONLY);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return errno_code(errno);
  std::vector<ftp::FileFacts> out;
  if (!S_ISDIR(st.st_mode)) {
    auto slash = vpath.rfind('/');
    out.push_back(facts_of(st, std::string(vpath.substr(slash + 1))));
    return out;
  }
  DIR* dir = ::fdopendir(fd->release());
  if (dir == nullptr) return errno_code(errno);
  while (dirent* e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (name == "." || name == ".." || name.rfind(kTempPrefix, 0) == 0) continue;
    struct stat est {};
    // Never follow: a symlink is listed as a link, and where it points is not revealed.
    if (::fstatat(::dirfd(dir), e->d_name, &est, AT_SYMLINK_NOFOLLOW) < 0) continue;
    out.push_back(facts_of(est, std::string(name)));
  }
  ::closedir(dir);
  return out;
}

Result<Vfs::Names> Vfs::list_names(std::string_view vpath) const {
  auto fd = open(vpath, O_RDONLY);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return errno_code(errno);
  Names out;
  if (!S_ISDIR(st.st_mode)) {
    auto slash = vpath.rfind('/');
    out.names.emplace_back(vpath.substr(slash + 1));
    return out;
  }
  out.is_dir = true;
  DIR* dir = ::fdopendir(fd->release());
  if (dir == nullptr) return errno_code(errno);
  while (dirent* e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (name == "." || name == ".." || name.rfind(kTempPrefix, 0) == 0) continue;
    out.names.emplace_back(name);
  }
  ::closedir(dir);
  return out;
}

Result<Vfs::Parent> Vfs::parent_of(std::string_view vpath) const {
  auto slash = vpath.rfind('/');
  if (slash == std::string_view::npos || slash + 1 >= vpath.size()) return errno_code(EPERM);
  std::string name(vpath.substr(slash + 1));
  std::string parent = slash == 0 ? "/" : std::string(vpath.substr(0, slash));
  auto dir = open(parent, O_PATH | O_DIRECTORY);
  if (!dir) return dir.error();
  return Parent{std::move(*dir), std::move(name)};
}

std::error_code Vfs::mkdir(std::string_view vpath) const {
  auto p = parent_of(vpath);
  if (!p) return p.error();
  if (::mkdirat(p->dir.get(), p->name.c_str(), 0755) < 0) return path_error(errno);
  return {};
}

std::error_code Vfs::rmdir(std::string_view vpath) const {
  auto p = parent_of(vpath);
  if (!p) return p.error();
  if (::unlinkat(p->dir.get(), p->name.c_str(), AT_REMOVEDIR) < 0) return path_error(errno);
  return {};
}

std::error_code Vfs::unlink(std::string_view vpath) const {
  auto p = parent_of(vpath);
  if (!p) return p.error();
  struct stat st {};
  if (::fstatat(p->dir.get(), p->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    return path_error(errno);
  }
  if (S_ISDIR(st.st_mode)) return errno_code(EISDIR);
  if (::unlinkat(p->dir.get(), p->name.c_str(), 0) < 0) return path_error(errno);
  return {};
}

std::error_code Vfs::rename(std::string_view from, std::string_view to) const {
  auto a = parent_of(from);
  if (!a) return a.error();
  auto b = parent_of(to);
  if (!b) return b.error();
  if (::renameat(a->dir.get(), a->name.c_str(), b->dir.get(), b->name.c_str()) < 0) {
    return path_error(errno);
  }
  return {};
}

std::error_code Vfs::set_mtime(std::string_view vpath, std::int64_t unix_seconds) const {
  auto fd = open(vpath, O_PATH);
  if (!fd) return fd.error();
  timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = static_cast<time_t>(unix_seconds);
  times[1].tv_nsec = 0;
  // O_PATH descriptors take utimensat on "" with AT_EMPTY_PATH.
  if (::utimensat(fd->get(), "", times, AT_EMPTY_PATH) < 0) return errno_code(errno);
  return {};
}

Result<TempFile> Vfs::create_temp(std::string_view target) const {
  auto p = parent_of(target);
  if (!p) return p.error();
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string name = temp_prefix_ + random_suffix();
    int fd = ::openat(p->dir.get(), name.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd >= 0) return TempFile{UniqueFd(fd), std::move(p->dir), std::move(name)};
    if (errno != EEXIST) return path_error(errno);
  }
  return errno_code(EEXIST);
}

std::error_code Vfs::commit(TempFile& temp, std::string_view target, bool durable,
                            std::error_code* dir_sync_error) const {
  auto p = parent_of(target);
  if (!p) return p.error();
  // The rename is an entry in the directory: until the directory is on disk, a crash can bring
  // back the old file (or none) although the client was told 226. The parent is an O_PATH
  // descriptor, which fsync refuses (EBADF): the directory itself is opened, before the rename,
  // so that running out of descriptors fails the commit while nothing is replaced yet.
  UniqueFd dir;
  if (durable) {
    dir = UniqueFd(::openat(p->dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return errno_code(errno);
  }
  if (::renameat(temp.dir.get(), temp.temp_name.c_str(), p->dir.get(), p->name.c_str()) < 0) {
    return path_error(errno);
  }
  temp.temp_name.clear();
  if (durable && ::fsync(dir.get()) < 0 && dir_sync_error != nullptr) {
    *dir_sync_error = errno_code(errno);
  }
  return {};
}

std::error_code Vfs::sync_parent(std::string_view vpath) const {
  auto p = parent_of(vpath);
  if (!p) return p.error();
  // The parent is an O_PATH descriptor, which fsync refuses (EBADF): open the directory itself.
  UniqueFd dir(::openat(p->dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return errno_code(errno);
  if (::fsync(dir.get()) < 0) return errno_code(errno);
  return {};
}

void Vfs::discard(TempFile& temp) const {
  temp.file.reset();
  if (!temp.temp_name.empty() && temp.dir) ::unlinkat(temp.dir.get(), temp.temp_name.c_str(), 0);
  temp.temp_name.clear();
}

}  // namespace muxio::ftpd
