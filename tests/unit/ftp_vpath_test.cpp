#include <gtest/gtest.h>

#include <string>

#include "ftp/vpath.hpp"

namespace muxio::ftp {
namespace {

std::string resolved(std::string_view cwd, std::string_view arg, std::size_t max_len = 4096) {
  auto r = resolve_vpath(cwd, arg, max_len);
  if (!r.ok()) {
    ADD_FAILURE() << "refused: cwd=" << cwd << " arg=" << arg << ": " << r.error().message();
    return {};
  }
  return *r;
}

std::error_code refused(std::string_view cwd, std::string_view arg, std::size_t max_len = 4096) {
  auto r = resolve_vpath(cwd, arg, max_len);
  EXPECT_FALSE(r.ok()) << "accepted: cwd=" << cwd << " arg=" << arg;
  return r.error();
}

TEST(FtpVpath, RelativeAndAbsolute) {
  EXPECT_EQ(resolved("/home", "docs/a.txt"), "/home/docs/a.txt");
  EXPECT_EQ(resolved("/home", "/etc/passwd"), "/etc/passwd");
  EXPECT_EQ(resolved("/", "a"), "/a");
  EXPECT_EQ(resolved("/", "/"), "/");
}

TEST(FtpVpath, EmptyArgIsCwd) {
  EXPECT_EQ(resolved("/a/b", ""), "/a/b");
  EXPECT_EQ(resolved("/", ""), "/");
}

TEST(FtpVpath, DotDotStopsAtTheRoot) {
  EXPECT_EQ(resolved("/", ".."), "/");
  EXPECT_EQ(resolved("/", "../../.."), "/");
  EXPECT_EQ(resolved("/a", "../../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(resolved("/a/b", "/../../x"), "/x");
  EXPECT_EQ(resolved("/a/b/c", "../.."), "/a");
  EXPECT_EQ(resolved("/a/b", "x/../../y"), "/a/y");
}

TEST(FtpVpath, CollapsesSlashesAndDots) {
  EXPECT_EQ(resolved("/", "//a///b//"), "/a/b");
  EXPECT_EQ(resolved("/x", "./a/./b/."), "/x/a/b");
  EXPECT_EQ(resolved("/x", "."), "/x");
  EXPECT_EQ(resolved("/x", "./"), "/x");
  EXPECT_EQ(resolved("/", "////"), "/");
}

TEST(FtpVpath, TrailingSlashRemoved) {
  EXPECT_EQ(resolved("/", "dir/"), "/dir");
  EXPECT_EQ(resolved("/a", "b/c/"), "/a/b/c");
}

TEST(FtpVpath, DotsThatAreNamesAreKept) {
  EXPECT_EQ(resolved("/", "..."), "/...");
  EXPECT_EQ(resolved("/", ".hidden/..x/x.."), "/.hidden/..x/x..");
  EXPECT_EQ(resolved("/", "a b/ c "), "/a b/ c ");
  EXPECT_EQ(resolved("/", "a\\..\\b"), "/a\\..\\b");  // backslash is not a separator
  EXPECT_EQ(resolved("/", "~/x"), "/~/x");
}

TEST(FtpVpath, NulRefused) {
  EXPECT_EQ(refused("/", std::string("a\0b", 3)), std::errc::invalid_argument);
  EXPECT_EQ(refused(std::string("/a\0", 3), "b"), std::errc::invalid_argument);
  EXPECT_EQ(refused("/", std::string("\0", 1)), std::errc::invalid_argument);
}

TEST(FtpVpath, ComponentLongerThan255Refused) {
  const std::string c255(255, 'n'), c256(256, 'n'), c300(300, 'n');
  EXPECT_EQ(resolved("/", c255), "/" + c255);
  EXPECT_EQ(refused("/", c256), std::errc::filename_too_long);
  EXPECT_EQ(refused("/", "a/" + c300 + "/b"), std::errc::filename_too_long);
  // Even when a later ".." would remove it.
  EXPECT_EQ(refused("/", c300 + "/.."), std::errc::filename_too_long);
}

TEST(FtpVpath, ResultLongerThanMaxLenRefused) {
  EXPECT_EQ(resolved("/", "abcd", 5), "/abcd");
  EXPECT_EQ(refused("/", "abcde", 5), std::errc::filename_too_long);
  EXPECT_EQ(refused("/abc", "de", 5), std::errc::filename_too_long);
  // Only the result counts: a long argument that collapses is fine.
  EXPECT_EQ(resolved("/", "a/b/c/d/e/f/g/../../../../../../../x", 5), "/x");
  EXPECT_EQ(resolved("/", std::string(1000, '/') + "a", 5), "/a");
}

TEST(FtpVpath, DefaultLimitIs4096Bytes) {
  std::string deep;
  for (int i = 0; i < 2048; ++i)
    deep += "/a";
  ASSERT_EQ(deep.size(), 4096u);
  EXPECT_EQ(resolved("/", deep), deep);
  EXPECT_EQ(refused("/", deep + "/b"), std::errc::filename_too_long);
  EXPECT_EQ(refused(deep, "b"), std::errc::filename_too_long);
}

TEST(FtpVpath, ToRelative) {
  EXPECT_EQ(to_relative("/a/b/c"), "a/b/c");
  EXPECT_EQ(to_relative("/"), ".");
  EXPECT_EQ(to_relative("/x"), "x");
}

TEST(FtpVpath, QuotePath) {
  EXPECT_EQ(quote_path("/usr/dm"), "/usr/dm");
  EXPECT_EQ(quote_path("/usr/dm/\"my\" dir"), "/usr/dm/\"\"my\"\" dir");
  EXPECT_EQ(quote_path("\""), "\"\"");
  EXPECT_EQ(quote_path("\"\""), "\"\"\"\"");
  EXPECT_EQ(quote_path(""), "");
}

}  // namespace
}  // namespace muxio::ftp
