// Vfs: confinement to the root (.., absolute symlinks, symlinks out, swapped symlinks), atomic
// uploads (temp + commit / discard), and listings that hide temporaries and never follow links.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ftpd/config.hpp"
#include "ftpd/stale_uploads.hpp"
#include "ftpd/vfs.hpp"
#include "test_support.hpp"

namespace muxio::ftpd {
namespace {

namespace fs = std::filesystem;

class VfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base = fs::temp_directory_path() /
           ("muxftpd-vfs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base);
    fs::create_directories(base / "root" / "dir");
    fs::create_directories(base / "outside");
    write(base / "root" / "file.txt", "inside");
    write(base / "outside" / "secret.txt", "secret");
    auto v = Vfs::open_root((base / "root").string());
    ASSERT_TRUE(v.ok()) << v.error().message();
    vfs = std::move(*v);
  }
  void TearDown() override { fs::remove_all(base); }

  static void write(const fs::path& p, const std::string& content) {
    std::ofstream(p, std::ios::binary) << content;
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string read_via_vfs(const std::string& vpath) {
    auto fd = vfs.open(vpath, O_RDONLY);
    if (!fd) return "<" + fd.error().message() + ">";
    char buf[64];
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  }

  fs::path base;
  Vfs vfs;
};

TEST_F(VfsTest, ReadsInsideTheRoot) {
  EXPECT_EQ(read_via_vfs("/file.txt"), "inside");
  auto st = vfs.stat("/dir");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(S_ISDIR(st->st_mode));
}

TEST_F(VfsTest, SymlinksLeadingOutsideAreRefused) {
  fs::create_symlink(base / "outside" / "secret.txt", base / "root" / "abs-link");
  fs::create_symlink("../outside/secret.txt", base / "root" / "rel-link");
  fs::create_directory_symlink(base / "outside", base / "root" / "dir-link");
  for (const char* p : {"/abs-link", "/rel-link", "/dir-link/secret.txt"}) {
    auto fd = vfs.open(p, O_RDONLY);
    ASSERT_FALSE(fd.ok()) << p << " escaped the root";
    EXPECT_EQ(fd.error(), std::errc::permission_denied) << p;
  }
  // Writing through a link that leads out must fail too, and create nothing outside.
  EXPECT_FALSE(vfs.open("/dir-link/new.txt", O_WRONLY | O_CREAT).ok());
  EXPECT_FALSE(fs::exists(base / "outside" / "new.txt"));
  EXPECT_TRUE(vfs.mkdir("/dir-link/x"));
  EXPECT_FALSE(fs::exists(base / "outside" / "x"));
}

TEST_F(VfsTest, SymlinksInsideTheRootWork) {
  fs::create_symlink("file.txt", base / "root" / "inner-link");
  EXPECT_EQ(read_via_vfs("/inner-link"), "inside");
}

TEST_F(VfsTest, ListingShowsLinksAsLinksAndHidesUploadTemporaries) {
  fs::create_symlink(base / "outside", base / "root" / "dir-link");
  write(base / "root" / (std::string(kTempPrefix) + "abc"), "partial");
  auto entries = vfs.list("/");
  ASSERT_TRUE(entries.ok());
  std::map<std::string, ftp::FileType> seen;
  for (const auto& e : *entries)
    seen[e.name] = e.type;
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen["file.txt"], ftp::FileType::file);
  EXPECT_EQ(seen["dir"], ftp::FileType::dir);
  EXPECT_EQ(seen["dir-link"], ftp::FileType::link);
  for (const auto& e : *entries)
    EXPECT_EQ(e.owner, "ftp");
}

TEST_F(VfsTest, UploadReplacesOnlyWhenCommitted) {
  auto temp = vfs.create_temp("/file.txt");
  ASSERT_TRUE(temp.ok()) << temp.error().message();
  ASSERT_EQ(::write(temp->file.get(), "new content", 11), 11);
  EXPECT_EQ(read(base / "root" / "file.txt"), "inside") << "untouched until commit";
  ASSERT_FALSE(vfs.commit(*temp, "/file.txt"));
  EXPECT_EQ(read(base / "root" / "file.txt"), "new content");
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(base / "root"))
    ++files;
  EXPECT_EQ(files, 2u) << "no temporary left behind";
}

TEST_F(VfsTest, DurableCommitRenamesAndSyncs) {
  auto temp = vfs.create_temp("/dir/new.txt");
  ASSERT_TRUE(temp.ok()) << temp.error().message();
  ASSERT_EQ(::write(temp->file.get(), "durable", 7), 7);
  ASSERT_FALSE(vfs.commit(*temp, "/dir/new.txt", true));
  EXPECT_EQ(read(base / "root" / "dir" / "new.txt"), "durable");
}

// An upload checks close(2) before it commits (a write error can show only there): the
// descriptor's close reports its error, and the descriptor is released either way.
TEST(UniqueFdTest, CloseReportsTheErrorOfClose) {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  UniqueFd ok(fd);
  EXPECT_FALSE(ok.close());
  EXPECT_FALSE(ok) << "closed";
  EXPECT_FALSE(ok.close()) << "a second close does nothing";

  UniqueFd stale(fd);  // the same number, already closed: close(2) fails with EBADF
  EXPECT_EQ(stale.close(), std::errc::bad_file_descriptor);
  EXPECT_FALSE(stale) << "released even though close failed";
}

TEST_F(VfsTest, DiscardedUploadLeavesTheOldFileAndNoTemporary) {
  auto temp = vfs.create_temp("/file.txt");
  ASSERT_TRUE(temp.ok());
  ASSERT_EQ(::write(temp->file.get(), "half", 4), 4);
  vfs.discard(*temp);
  EXPECT_EQ(read(base / "root" / "file.txt"), "inside");
  for (auto& e : fs::directory_iterator(base / "root")) {
    EXPECT_EQ(e.path().filename().string().rfind(std::string(kTempPrefix), 0), std::string::npos);
  }
}

// A cluster on a shared root: each node's temporaries carry its name, and a node's start-up sweep
// removes its own only, never an upload another node is writing at that moment.
TEST_F(VfsTest, EachNodeSweepsOnlyItsOwnUploadTemporaries) {
  vfs.set_node("n1");
  auto mine = vfs.create_temp("/dir/a.bin");
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->temp_name.rfind(".muxftpd-upload-n1.", 0), 0u) << mine->temp_name;
  Vfs other = *Vfs::open_root((base / "root").string());
  other.set_node("n2");
  auto theirs = other.create_temp("/dir/b.bin");
  ASSERT_TRUE(theirs.ok());
  write(base / "root" / (std::string(kTempPrefix) + "n10.abc"), "n10 is another node");
  auto sweep = remove_stale_uploads((base / "root").string(), "n1");
  EXPECT_EQ(sweep.removed, 1u);
  EXPECT_FALSE(fs::exists(base / "root" / "dir" / mine->temp_name));
  EXPECT_TRUE(fs::exists(base / "root" / "dir" / theirs->temp_name));
  EXPECT_TRUE(fs::exists(base / "root" / (std::string(kTempPrefix) + "n10.abc")));
  // A node without a name sweeps only the unnamed temporaries: the named nodes' names begin with
  // its prefix too, and a node started without its name on a shared root must not remove their
  // uploads in progress.
  Vfs unnamed = *Vfs::open_root((base / "root").string());
  auto plain = unnamed.create_temp("/c.bin");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(is_temp_name_of(plain->temp_name, ""));
  EXPECT_FALSE(is_temp_name_of(theirs->temp_name, ""));
  EXPECT_TRUE(is_temp_name_of(theirs->temp_name, "n2"));
  EXPECT_FALSE(is_temp_name_of(theirs->temp_name, "n"));
  sweep = remove_stale_uploads((base / "root").string());
  EXPECT_EQ(sweep.removed, 1u);
  EXPECT_FALSE(fs::exists(base / "root" / plain->temp_name));
  EXPECT_TRUE(fs::exists(base / "root" / "dir" / theirs->temp_name));
  EXPECT_TRUE(fs::exists(base / "root" / (std::string(kTempPrefix) + "n10.abc")));
  // A client's file that merely begins with the prefix is not a temporary of anyone.
  write(base / "root" / (std::string(kTempPrefix) + "notes"), "keep");
  sweep = remove_stale_uploads((base / "root").string());
  EXPECT_EQ(sweep.removed, 0u);
  EXPECT_TRUE(fs::exists(base / "root" / (std::string(kTempPrefix) + "notes")));
}

TEST(ReservedNames, AnyComponentWithTheTemporaryPrefix) {
  const std::string t(kTempPrefix);
  EXPECT_TRUE(has_reserved_component("/" + t + "x"));
  EXPECT_TRUE(has_reserved_component("/" + t));
  EXPECT_TRUE(has_reserved_component("/a/" + t + "x/b"));
  EXPECT_TRUE(has_reserved_component("/a/b/" + t + "notes"));
  EXPECT_FALSE(has_reserved_component("/"));
  EXPECT_FALSE(has_reserved_component("/a/b.txt"));
  EXPECT_FALSE(has_reserved_component("/a/x" + t));
  EXPECT_FALSE(has_reserved_component("/.muxftpd-uploa"));
}

TEST(NodeName, LettersDigitsDashAndUnderscoreOnly) {
  EXPECT_EQ(node_name_error("node-1_a"), "");
  EXPECT_NE(node_name_error(""), "");
  EXPECT_NE(node_name_error("a.b"), "") << "a dot would blur the prefix";
  EXPECT_NE(node_name_error("../x"), "");
  EXPECT_NE(node_name_error(std::string(33, 'a')), "");
}

TEST_F(VfsTest, NameOperations) {
  EXPECT_FALSE(vfs.mkdir("/made"));
  EXPECT_TRUE(fs::is_directory(base / "root" / "made"));
  EXPECT_EQ(vfs.mkdir("/made"), std::errc::file_exists);
  EXPECT_FALSE(vfs.rename("/file.txt", "/made/moved.txt"));
  EXPECT_TRUE(fs::exists(base / "root" / "made" / "moved.txt"));
  EXPECT_EQ(vfs.rmdir("/made"), std::errc::directory_not_empty);
  EXPECT_EQ(vfs.unlink("/made"), std::errc::is_a_directory);
  EXPECT_FALSE(vfs.unlink("/made/moved.txt"));
  EXPECT_FALSE(vfs.rmdir("/made"));
  EXPECT_EQ(vfs.unlink("/missing"), std::errc::no_such_file_or_directory);
  EXPECT_TRUE(vfs.rmdir("/")) << "the root itself cannot be removed";
}

TEST_F(VfsTest, UnlinkingALinkRemovesTheLinkNotItsTarget) {
  fs::create_symlink(base / "outside" / "secret.txt", base / "root" / "abs-link");
  EXPECT_FALSE(vfs.unlink("/abs-link"));
  EXPECT_TRUE(fs::exists(base / "outside" / "secret.txt"));
}

TEST_F(VfsTest, SetMtime) {
  ASSERT_FALSE(vfs.set_mtime("/file.txt", 1'000'000'000));
  auto st = vfs.stat("/file.txt");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mtim.tv_sec, 1'000'000'000);
}

}  // namespace
}  // namespace muxio::ftpd
