// Mirror (`muxftp mirror URL DIR`, `mirror --reverse DIR URL`): one directory tree made like
// another, downloads or uploads. Both trees are listed (the remote one by walking it with
// LIST/MLSD, bounded in depth and entries; the local one by the filesystem), the plan says what
// to copy, which directories to make and, with --delete, what the destination has that the source
// does not; the copies then run as Jobs on a TransferRunner with preserve_mtime, so a file is
// left alone next time when its size and modification time match.
//
// The plan (plan_download, plan_upload) is pure and unit-tested; walk_remote and scan_local read
// the trees; prepare_mirror does it all on the caller's control session and returns the jobs.
// Paths in a Tree are relative to its root, '/'-separated.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "ftpc/control.hpp"
#include "ftpc/transfer.hpp"

namespace muxio::ftpc {

struct TreeFile {
  std::string rel;
  std::uint64_t size = 0;
  // Seconds since the epoch. A remote listing may not tell; a local file lacks it only when it
  // could not be stat()ed.
  std::optional<std::int64_t> mtime;
};

struct Tree {
  std::vector<TreeFile> files;    // in the order found
  std::vector<std::string> dirs;  // parents before their children
};

// Walks the remote tree under `base` (breadth first, 64 levels and 100,000 directories at most);
// entries named "." "..", or holding a '/', are skipped. An error: a listing failed.
Task<std::error_code> walk_remote(ControlConnection& conn, std::string base, Tree* tree);
// The regular files (links followed) and directories under `root`; empty when it does not exist.
Tree scan_local(const std::string& root);

// The remote directory a mirror URL names: its path without trailing '/' ("/" stays).
std::string mirror_base(std::string path);

// A copy is needed unless the destination has the file with the same size and the same
// modification time (to the second), the source's time being known.
bool same_file(const TreeFile& source, const TreeFile& destination);

struct MirrorPlan {
  std::vector<std::string> make_dirs;  // on the destination, parents first
  std::vector<TreeFile> copies;        // the source's files to copy (its sizes and times)
  std::vector<std::string> deletions;  // the destination's files the source lacks (--delete)
};
// remote -> local: every remote directory is made locally (making one that exists is harmless).
MirrorPlan plan_download(const Tree& remote, const Tree& local, bool delete_extra);
// local -> remote: only the directories the server lacks are made. A local file that could not
// be stat()ed is neither sent nor deleted on the server.
MirrorPlan plan_upload(const Tree& local, const Tree& remote, bool delete_extra);

struct MirrorRequest {
  std::string base;        // the remote directory (mirror_base)
  std::string local_root;  // the local directory
  bool upload = false;     // --reverse
  bool delete_extra = false;
};
// What prepare_mirror tells as it goes: errors of single directories or deletions (the mirror
// goes on), and each file deleted (the local path, or the remote one relative to base).
struct MirrorNotes {
  std::function<void(const std::string&)> error;
  std::function<void(const std::string&)> deleted;
};

// The copies as jobs (get or put) with their paths under base and local_root.
std::vector<Job> mirror_jobs(const MirrorPlan& plan, const MirrorRequest& request);

// On `conn`: walks the remote tree (making base first for an upload), scans the local one, makes
// the missing directories and deletes the extra files of the destination (delete_extra), and
// returns the copies still to run. An error: the remote listing failed (conn's last reply says
// why).
Task<Result<std::vector<Job>>> prepare_mirror(ControlConnection& conn, MirrorRequest request,
                                              const MirrorNotes& notes);

}  // namespace muxio::ftpc
