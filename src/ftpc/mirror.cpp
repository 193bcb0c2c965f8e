#include "ftpc/mirror.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "ftpc/url.hpp"

namespace muxio::ftpc {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxRemoteDirs = 100000;
constexpr int kMaxRemoteDepth = 64;

std::set<std::string> rel_paths(const std::vector<TreeFile>& files) {
  std::set<std::string> out;
  for (const auto& f : files)
    out.insert(f.rel);
  return out;
}

std::map<std::string, const TreeFile*> by_rel(const std::vector<TreeFile>& files) {
  std::map<std::string, const TreeFile*> out;
  for (const auto& f : files)
    out[f.rel] = &f;
  return out;
}

// The files of `source` the destination lacks or holds in another version.
std::vector<TreeFile> files_to_copy(const Tree& source, const Tree& destination) {
  auto there = by_rel(destination.files);
  std::vector<TreeFile> out;
  for (const auto& f : source.files) {
    auto found = there.find(f.rel);
    if (found == there.end() || !same_file(f, *found->second)) out.push_back(f);
  }
  return out;
}

// With --delete: the files of `destination` that `source` does not have.
std::vector<std::string> files_to_delete(const Tree& source, const Tree& destination) {
  auto wanted = rel_paths(source.files);
  std::vector<std::string> out;
  for (const auto& f : destination.files)
    if (!wanted.count(f.rel)) out.push_back(f.rel);
  return out;
}

}  // namespace

Task<std::error_code> walk_remote(ControlConnection& conn, std::string base, Tree* tree) {
  std::vector<std::pair<std::string, int>> queue;  // relative directory, depth
  queue.emplace_back("", 0);
  for (std::size_t qi = 0; qi < queue.size() && qi < kMaxRemoteDirs; ++qi) {
    std::string rel = queue[qi].first;
    int depth = queue[qi].second;
    std::string path = rel.empty() ? base : join_path(base, rel);
    auto entries = co_await conn.list(path);
    if (!entries) co_return entries.error();
    for (const auto& e : *entries) {
      if (e.name.find('/') != std::string::npos || e.name == "." || e.name == "..") continue;
      std::string child = join_path(rel, e.name);
      if (e.type == ftp::FileType::dir) {
        tree->dirs.push_back(child);
        if (depth < kMaxRemoteDepth) queue.emplace_back(child, depth + 1);
      } else if (e.type == ftp::FileType::file) {
        tree->files.push_back(TreeFile{child, e.size.value_or(0), e.mtime});
      }
    }
  }
  co_return std::error_code{};
}

Tree scan_local(const std::string& root) {
  Tree tree;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string rel = fs::relative(it->path(), root, ec).string();
    if (it->is_directory()) {
      tree.dirs.push_back(rel);
      continue;
    }
    if (!it->is_regular_file()) continue;
    TreeFile f{rel, 0, std::nullopt};
    struct stat st {};
    if (::stat(it->path().c_str(), &st) == 0) {
      f.size = static_cast<std::uint64_t>(st.st_size);
      f.mtime = st.st_mtim.tv_sec;
    }
    tree.files.push_back(f);
  }
  return tree;
}

std::string mirror_base(std::string path) {
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  return path;
}

bool same_file(const TreeFile& source, const TreeFile& destination) {
  return source.size == destination.size && source.mtime && destination.mtime &&
         *source.mtime == *destination.mtime;
}

MirrorPlan plan_download(const Tree& remote, const Tree& local, bool delete_extra) {
  MirrorPlan plan;
  plan.make_dirs = remote.dirs;
  plan.copies = files_to_copy(remote, local);
  if (delete_extra) plan.deletions = files_to_delete(remote, local);
  return plan;
}

MirrorPlan plan_upload(const Tree& local, const Tree& remote, bool delete_extra) {
  MirrorPlan plan;
  std::set<std::string> have_dirs(remote.dirs.begin(), remote.dirs.end());
  for (const auto& d : local.dirs)
    if (!have_dirs.count(d)) plan.make_dirs.push_back(d);
  std::sort(plan.make_dirs.begin(), plan.make_dirs.end());  // parents before children
  Tree readable;
  for (const auto& f : local.files)
    if (f.mtime) readable.files.push_back(f);
  plan.copies = files_to_copy(readable, remote);
  if (delete_extra) plan.deletions = files_to_delete(local, remote);
  return plan;
}

std::vector<Job> mirror_jobs(const MirrorPlan& plan, const MirrorRequest& request) {
  std::vector<Job> jobs;
  for (const auto& f : plan.copies) {
    Job j;
    j.direction = request.upload ? JobKind::put : JobKind::get;
    j.remote = join_path(request.base, f.rel);
    j.local = (fs::path(request.local_root) / f.rel).string();
    j.label = f.rel;
    j.size = f.size;
    if (!request.upload) j.mtime = f.mtime;  // set on the copy (an upload sets it by MFMT)
    jobs.push_back(j);
  }
  return jobs;
}

namespace {

void apply_locally(const MirrorPlan& plan, const MirrorRequest& request, const MirrorNotes& notes) {
  std::error_code ec;
  fs::create_directories(request.local_root, ec);
  for (const auto& d : plan.make_dirs)
    fs::create_directories(fs::path(request.local_root) / d, ec);
  for (const auto& rel : plan.deletions) {
    fs::path p = fs::path(request.local_root) / rel;
    fs::remove(p, ec);
    notes.deleted(p.string());
  }
}

Task<void> apply_remotely(ControlConnection& conn, const MirrorPlan& plan,
                          const MirrorRequest& request, const MirrorNotes& notes) {
  for (const auto& d : plan.make_dirs) {
    auto ec = co_await conn.mkdir(join_path(request.base, d));
    if (ec) notes.error("mkdir " + d + ": " + describe_error(ec, &conn));
  }
  for (const auto& rel : plan.deletions) {
    auto ec = co_await conn.remove(join_path(request.base, rel));
    if (ec) {
      notes.error("delete " + rel + ": " + describe_error(ec, &conn));
    } else {
      notes.deleted(rel);
    }
  }
}

}  // namespace

Task<Result<std::vector<Job>>> prepare_mirror(ControlConnection& conn, MirrorRequest request,
                                              const MirrorNotes& notes) {
  if (request.upload) (void)co_await conn.mkdir(request.base);  // may exist already
  Tree remote;
  auto ec = co_await walk_remote(conn, request.base, &remote);
  if (ec) co_return ec;
  Tree local = scan_local(request.local_root);
  MirrorPlan plan;
  if (request.upload) {
    plan = plan_upload(local, remote, request.delete_extra);
    co_await apply_remotely(conn, plan, request, notes);
  } else {
    plan = plan_download(remote, local, request.delete_extra);
    apply_locally(plan, request, notes);
  }
  co_return mirror_jobs(plan, request);
}

}  // namespace muxio::ftpc
