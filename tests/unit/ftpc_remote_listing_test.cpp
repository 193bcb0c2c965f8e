// What the client prints for a listing and which files a glob picks.
#include <gtest/gtest.h>

#include "ftpc/remote_listing.hpp"

using namespace muxio::ftpc;
using muxio::ftp::FileType;
using muxio::ftp::RemoteEntry;

namespace {

RemoteEntry entry(std::string name, FileType type, std::optional<std::uint64_t> size = {}) {
  RemoteEntry e;
  e.name = std::move(name);
  e.type = type;
  e.size = size;
  return e;
}

}  // namespace

TEST(FormatListing, SortedWithSizesTimesAndSlashes) {
  std::vector<RemoteEntry> entries;
  entries.push_back(entry("b.txt", FileType::file, 1234));
  entries.push_back(entry("a dir", FileType::dir));
  entries.back().mtime = 1763901240;  // 2025-11-23 12:34 UTC
  entries.push_back(entry("bad\x1bname", FileType::file, 0));
  EXPECT_EQ(format_listing(entries),
            "              2025-11-23 12:34  a dir/\n"
            "        1234                    b.txt\n"
            "           0                    bad?name\n");
  EXPECT_EQ(format_listing({}), "");
}

TEST(FilesMatching, GlobsPlainFilesOnly) {
  std::vector<RemoteEntry> entries;
  entries.push_back(entry("z.bin", FileType::file));
  entries.push_back(entry("a.bin", FileType::file));
  entries.push_back(entry("d.bin", FileType::dir));
  entries.push_back(entry(".hidden.bin", FileType::file));
  entries.push_back(entry("../x.bin", FileType::file));
  entries.push_back(entry("a.txt", FileType::file));
  auto picked = files_matching(entries, "*.bin");
  ASSERT_EQ(picked.size(), 2u);
  EXPECT_EQ(picked[0].name, "a.bin");
  EXPECT_EQ(picked[1].name, "z.bin");
  EXPECT_TRUE(files_matching(entries, "*.iso").empty());
  EXPECT_EQ(files_matching(entries, "a.*").size(), 2u);
}
