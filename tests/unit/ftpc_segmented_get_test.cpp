// How the segmented get cuts a file, and the check of the reassembled file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "ftpc/segmented_get.hpp"

using namespace muxio::ftpc;

namespace {

using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

// The ranges are in order, back to back, and cover [0, size).
void expect_covers(const Ranges& ranges, std::uint64_t size) {
  ASSERT_FALSE(ranges.empty());
  EXPECT_EQ(ranges.front().first, 0u);
  EXPECT_EQ(ranges.back().second, size);
  for (std::size_t i = 1; i < ranges.size(); ++i)
    EXPECT_EQ(ranges[i].first, ranges[i - 1].second) << "segment " << i;
}

}  // namespace

TEST(SegmentedGet, CutsALargeFileIntoEqualSegments) {
  Ranges r = cut_into_segments(1 << 20, 4);
  ASSERT_EQ(r.size(), 4u);
  expect_covers(r, 1 << 20);
  for (const auto& [from, to] : r)
    EXPECT_EQ(to - from, 256u << 10);
}

TEST(SegmentedGet, TheLastSegmentTakesTheRest) {
  Ranges r = cut_into_segments(1000003, 3);
  ASSERT_EQ(r.size(), 3u);
  expect_covers(r, 1000003);
  EXPECT_EQ(r[0].second, 333334u);
  EXPECT_EQ(r[2].second - r[2].first, 1000003u - 2 * 333334u);
}

TEST(SegmentedGet, ASmallFileGetsFewerSegments) {
  // 200 KiB holds three segments of 64 KiB, not four.
  Ranges r = cut_into_segments(200 << 10, 4);
  ASSERT_EQ(r.size(), 3u);
  expect_covers(r, 200 << 10);
  EXPECT_EQ(cut_into_segments(100 << 10, 8).size(), 1u);
  Ranges empty = cut_into_segments(0, 4);
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0], std::make_pair(std::uint64_t{0}, std::uint64_t{0}));
  EXPECT_EQ(cut_into_segments(1 << 20, 0).size(), 1u);  // at least one
}

TEST(SegmentedGet, JobsAreNumberedRangesOfOneFile) {
  auto jobs = segment_jobs("/pub/big.iso", "out/big.iso", 3 << 20, 3);
  ASSERT_EQ(jobs.size(), 3u);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    EXPECT_EQ(jobs[i].direction, JobKind::get);
    EXPECT_EQ(jobs[i].remote, "/pub/big.iso");
    EXPECT_EQ(jobs[i].local, "out/big.iso");
    EXPECT_EQ(jobs[i].label, "big.iso #" + std::to_string(i + 1));
    EXPECT_EQ(jobs[i].size, std::uint64_t{3 << 20});
    ASSERT_TRUE(jobs[i].range);
    EXPECT_EQ(jobs[i].range->first, i * (1u << 20));
    EXPECT_EQ(jobs[i].total_bytes(), std::uint64_t{1 << 20});
  }
}

TEST(SegmentedGet, ReassemblyCheckComparesTheSizeOnDisk) {
  std::string path =
      (std::filesystem::temp_directory_path() / ("ftpc-seg-" + std::to_string(::getpid())))
          .string();
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("0123456789", f);
  std::fclose(f);
  SegmentedGet get;
  get.local = path;
  get.size = 10;
  EXPECT_FALSE(check_reassembled(get));
  get.size = 11;
  EXPECT_TRUE(check_reassembled(get));
  ::unlink(path.c_str());
  get.size = 10;
  EXPECT_TRUE(check_reassembled(get));  // gone
}
