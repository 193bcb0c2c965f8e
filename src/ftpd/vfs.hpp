// Vfs: one user's view of the disk, confined to their root directory.
//
// Every path is resolved by the kernel with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
// relative to a descriptor of the root, so "..", absolute symlinks and symlinks that lead
// outside fail with EXDEV — also when a symlink is swapped in between a check and a use, since
// there is no separate check. Operations on a name (mkdir, unlink, rename) open the parent that
// way and act on the last component with the *at() calls, which never follow it.
//
// Paths given here are virtual, absolute and already normalised (ftp::resolve_vpath). The calls
// block on the disk: sessions run them on the offload pool. A Vfs is immutable after open and may
// be used from any thread.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <vector>

#include "ftp/listing.hpp"
#include "muxio/result.hpp"
#include "muxio/unique_fd.hpp"

namespace muxio::ftpd {

// An upload in progress under a hidden temporary name, renamed into place by commit().
struct TempFile {
  UniqueFd file;
  UniqueFd dir;  // the directory it lives in, which is also where it will be renamed
  std::string temp_name;
};

// Prefix of upload temporary files; hidden from listings. A server with a node name (a cluster
// on a shared root) adds it: ".muxftpd-upload-NODE.xxxxxxxxxxxx".
inline constexpr std::string_view kTempPrefix = ".muxftpd-upload-";
// The prefix of the temporaries of `node` ("" : kTempPrefix itself).
std::string temp_prefix(std::string_view node);
// True when a component of vpath begins with kTempPrefix: a name of the server's own, which no
// client may create, open or rename (it would be hidden from listings and from the quota walk,
// and removed by the next start-up sweep).
bool has_reserved_component(std::string_view vpath);
// True when `name` is a temporary of `node` exactly as create_temp makes it: temp_prefix(node)
// and the random suffix, nothing else (so that no node's sweep matches another node's names).
bool is_temp_name_of(std::string_view name, std::string_view node);

class Vfs {
 public:
  Vfs() = default;
  static Result<Vfs> open_root(const std::string& dir);
  // The node whose name this Vfs's upload temporaries carry (ServerConfig::node_name).
  void set_node(std::string_view node) { temp_prefix_ = temp_prefix(node); }

  Result<UniqueFd> open(std::string_view vpath, int flags, mode_t mode = 0644) const;
  Result<struct stat> stat(std::string_view vpath) const;
  // The entries of a directory (hidden upload files left out), or the one entry of a file.
  Result<std::vector<ftp::FileFacts>> list(std::string_view vpath) const;
  // The names only (NLST): no stat of each entry, which is most of what a listing of a large
  // directory costs. A file's own name for a file.
  struct Names {
    std::vector<std::string> names;
    bool is_dir = false;
  };
  Result<Names> list_names(std::string_view vpath) const;
  static ftp::FileFacts facts_of(const struct stat& st, std::string name);

  std::error_code mkdir(std::string_view vpath) const;
  std::error_code rmdir(std::string_view vpath) const;
  std::error_code unlink(std::string_view vpath) const;
  std::error_code rename(std::string_view from, std::string_view to) const;
  std::error_code set_mtime(std::string_view vpath, std::int64_t unix_seconds) const;

  // Starts an upload to target: a new hidden file in the target's directory.
  Result<TempFile> create_temp(std::string_view target) const;
  // Makes the upload visible under target, replacing what was there in one step. With `durable`,
  // the directory is fsynced after the rename, so that the new name survives a crash too (the
  // caller has fsynced the file's content before). An error means nothing was replaced; once the
  // rename is done the upload is in place whatever follows, so a failed directory fsync is not an
  // error of the commit but reported in `dir_sync_error`, for the caller to log.
  std::error_code commit(TempFile& temp, std::string_view target, bool durable = false,
                         std::error_code* dir_sync_error = nullptr) const;
  // Removes an upload that failed; the previous file at target is untouched.
  void discard(TempFile& temp) const;
  // fsyncs the directory that holds vpath, so that a name created there survives a crash.
  std::error_code sync_parent(std::string_view vpath) const;

 private:
  struct Parent {
    UniqueFd dir;
    std::string name;
  };
  Result<Parent> parent_of(std::string_view vpath) const;
  Result<UniqueFd> open_relative(int dirfd, const std::string& rel, int flags, mode_t mode) const;

  UniqueFd root_;
  std::string temp_prefix_{kTempPrefix};
};

}  // namespace muxio::ftpd
