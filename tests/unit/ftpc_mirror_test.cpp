// The mirror's plan: what is copied, made and deleted for given trees, in both directions, and
// the local scan it starts from.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "ftpc/mirror.hpp"

using namespace muxio::ftpc;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> rels(const std::vector<TreeFile>& files) {
  std::vector<std::string> out;
  for (const auto& f : files)
    out.push_back(f.rel);
  return out;
}

using Names = std::vector<std::string>;

// A scratch directory, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "ftpc-mirror-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  void write(const std::string& rel, const std::string& content) const {
    fs::create_directories((fs::path(path_) / rel).parent_path());
    std::ofstream(fs::path(path_) / rel) << content;
  }

 private:
  std::string path_;
};

}  // namespace

TEST(MirrorPlan, SameFileNeedsEqualSizeAndKnownEqualTimes) {
  EXPECT_TRUE(same_file({"a", 10, 100}, {"a", 10, 100}));
  EXPECT_FALSE(same_file({"a", 10, 100}, {"a", 11, 100}));
  EXPECT_FALSE(same_file({"a", 10, 100}, {"a", 10, 101}));
  EXPECT_FALSE(same_file({"a", 10, std::nullopt}, {"a", 10, 100}));  // the server did not say
  EXPECT_FALSE(same_file({"a", 10, 100}, {"a", 10, std::nullopt}));  // could not stat
}

TEST(MirrorPlan, DownloadCopiesWhatDiffersAndMakesEveryRemoteDirectory) {
  Tree remote;
  remote.dirs = {"sub", "sub/deeper"};
  remote.files = {{"same", 10, 100},
                  {"sub/newer", 5, 200},
                  {"sub/deeper/missing", 7, 300},
                  {"no-time", 3, std::nullopt}};
  Tree local;
  local.dirs = {"sub"};
  local.files = {{"same", 10, 100}, {"sub/newer", 5, 150}, {"no-time", 3, 50}, {"extra", 1, 1}};

  MirrorPlan plan = plan_download(remote, local, false);
  EXPECT_EQ(plan.make_dirs, (Names{"sub", "sub/deeper"}));
  EXPECT_EQ(rels(plan.copies), (Names{"sub/newer", "sub/deeper/missing", "no-time"}));
  EXPECT_TRUE(plan.deletions.empty());

  MirrorPlan with_delete = plan_download(remote, local, true);
  EXPECT_EQ(with_delete.deletions, (Names{"extra"}));
  EXPECT_EQ(rels(with_delete.copies), rels(plan.copies));
}

TEST(MirrorPlan, UploadMakesOnlyMissingDirectoriesParentsFirst) {
  Tree local;
  local.dirs = {"zz", "new/deeper", "have", "new"};
  local.files = {{"have/same", 4, 40}, {"new/deeper/f", 8, 80}, {"unreadable", 0, std::nullopt}};
  Tree remote;
  remote.dirs = {"have"};
  remote.files = {{"have/same", 4, 40}, {"unreadable", 9, 90}, {"gone", 2, 20}};

  MirrorPlan plan = plan_upload(local, remote, true);
  EXPECT_EQ(plan.make_dirs, (Names{"new", "new/deeper", "zz"}));
  // A file that could not be stat()ed is not sent, and its remote copy is not deleted either.
  EXPECT_EQ(rels(plan.copies), (Names{"new/deeper/f"}));
  EXPECT_EQ(plan.deletions, (Names{"gone"}));
  EXPECT_TRUE(plan_upload(local, remote, false).deletions.empty());
}

TEST(MirrorPlan, JobsCarryPathsUnderBothRoots) {
  MirrorPlan plan;
  plan.copies = {{"sub/f", 12, 1234}};
  MirrorRequest down;
  down.base = "/pub";
  down.local_root = "out";
  auto gets = mirror_jobs(plan, down);
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].direction, JobKind::get);
  EXPECT_EQ(gets[0].remote, "/pub/sub/f");
  EXPECT_EQ(gets[0].local, "out/sub/f");
  EXPECT_EQ(gets[0].label, "sub/f");
  EXPECT_EQ(gets[0].size, 12u);
  EXPECT_EQ(gets[0].mtime, 1234);

  MirrorRequest up = down;
  up.upload = true;
  auto puts = mirror_jobs(plan, up);
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].direction, JobKind::put);
  EXPECT_EQ(puts[0].remote, "/pub/sub/f");
  EXPECT_FALSE(puts[0].mtime);  // an upload's time is set by MFMT from the local file
}

TEST(MirrorPlan, BaseLosesTrailingSlashes) {
  EXPECT_EQ(mirror_base("/pub/dir//"), "/pub/dir");
  EXPECT_EQ(mirror_base("dir/"), "dir");
  EXPECT_EQ(mirror_base("/"), "/");
  EXPECT_EQ(mirror_base(""), "");
}

TEST(MirrorScan, ListsFilesWithSizesAndTimesAndDirectories) {
  ScratchDir dir;
  dir.write("top.txt", "hello");
  dir.write("sub/inner.bin", "0123456789");
  fs::create_directories(fs::path(dir.path()) / "empty");
  Tree tree = scan_local(dir.path());

  Names dirs = tree.dirs;
  std::sort(dirs.begin(), dirs.end());
  EXPECT_EQ(dirs, (Names{"empty", "sub"}));
  std::sort(tree.files.begin(), tree.files.end(),
            [](const TreeFile& a, const TreeFile& b) { return a.rel < b.rel; });
  ASSERT_EQ(tree.files.size(), 2u);
  EXPECT_EQ(tree.files[0].rel, "sub/inner.bin");
  EXPECT_EQ(tree.files[0].size, 10u);
  EXPECT_EQ(tree.files[1].rel, "top.txt");
  EXPECT_EQ(tree.files[1].size, 5u);
  struct stat st {};
  ASSERT_EQ(::stat((fs::path(dir.path()) / "top.txt").c_str(), &st), 0);
  EXPECT_EQ(tree.files[1].mtime, st.st_mtim.tv_sec);
}

TEST(MirrorScan, MissingRootIsEmpty) {
  Tree tree = scan_local("/nonexistent/ftpc-mirror-test");
  EXPECT_TRUE(tree.files.empty());
  EXPECT_TRUE(tree.dirs.empty());
}
