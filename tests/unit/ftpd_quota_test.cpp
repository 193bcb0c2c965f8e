// Quotas and bandwidth settings: reservations that never pass a limit (also from several threads
// at once), measuring a home directory (links not followed, upload temporaries not counted),
// and rate strings.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "ftpd/bandwidth.hpp"
#include "ftpd/quota.hpp"
#include "test_support.hpp"

namespace muxio::ftpd {
namespace {

namespace fs = std::filesystem;

TEST(QuotaUsage, ReservationsStopAtTheLimit) {
  QuotaUsage u;
  EXPECT_TRUE(u.needs_measuring());
  u.set_measured(900, 2);
  EXPECT_FALSE(u.needs_measuring());
  EXPECT_TRUE(u.reserve_bytes(100, 1000));
  EXPECT_FALSE(u.reserve_bytes(1, 1000)) << "1000 of 1000 used";
  EXPECT_EQ(u.bytes(), 1000u);
  u.release_bytes(300);
  EXPECT_TRUE(u.reserve_bytes(300, 1000));
  EXPECT_TRUE(u.reserve_bytes(1ull << 40, 0)) << "0 means no limit";
  EXPECT_TRUE(u.reserve_file(3));
  EXPECT_FALSE(u.reserve_file(3));
  u.release_file();
  EXPECT_TRUE(u.reserve_file(3));
  u.invalidate();
  EXPECT_TRUE(u.needs_measuring());
}

TEST(QuotaUsage, MeasurementGoesStale) {
  QuotaUsage u;
  TimePoint t0 = Clock::now();
  u.set_measured(1, 1, t0);
  EXPECT_FALSE(u.needs_measuring(t0 + std::chrono::minutes(1)));
  EXPECT_TRUE(u.needs_measuring(t0 + QuotaUsage::kMaxAge + std::chrono::seconds(1)));
}

TEST(QuotaUsage, ParallelUploadsCannotTogetherPassTheQuota) {
  QuotaUsage u;
  u.set_measured(0, 0);
  std::atomic<std::uint64_t> granted{0};
  std::vector<std::thread> uploads;
  for (int i = 0; i < 4; ++i) {
    uploads.emplace_back([&] {
      for (int k = 0; k < 10000; ++k) {
        if (u.reserve_bytes(7, 100'000)) granted += 7;
      }
    });
  }
  for (auto& t : uploads)
    t.join();
  EXPECT_LE(granted.load(), 100'000u);
  EXPECT_GT(granted.load(), 100'000u - 7);
  EXPECT_EQ(u.bytes(), granted.load());
}

TEST(QuotaUsage, MeasuresRegularFilesOnly) {
  fs::path base = fs::temp_directory_path() / ("muxftpd-quota-" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base / "home" / "a" / "b");
  fs::create_directories(base / "outside");
  auto write = [](const fs::path& p, std::size_t n) {
    std::ofstream(p, std::ios::binary) << std::string(n, 'x');
  };
  write(base / "home" / "one", 100);
  write(base / "home" / "a" / "two", 20);
  write(base / "home" / "a" / "b" / "three", 3);
  write(base / "home" / ".muxftpd-upload-123", 5000);  // an upload in progress
  write(base / "outside" / "big", 100000);
  fs::create_directory_symlink(base / "outside", base / "home" / "link");
  auto vfs = Vfs::open_root((base / "home").string());
  ASSERT_TRUE(vfs.ok());
  auto usage = measure_usage(*vfs);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->bytes, 123u);
  EXPECT_EQ(usage->files, 3u);
  auto shallow = measure_usage(*vfs, 2);
  ASSERT_TRUE(shallow.ok());
  EXPECT_EQ(shallow->files, 2u) << "depth-limited";
  fs::remove_all(base);
}

TEST(Bandwidth, ParsesRates) {
  EXPECT_EQ(parse_bytes("1000"), 1000u);
  EXPECT_EQ(parse_bytes("500K"), 500u * 1024);
  EXPECT_EQ(parse_bytes("10M"), 10u << 20);
  EXPECT_EQ(parse_bytes("1g"), 1u << 30);
  EXPECT_EQ(parse_bytes("0"), 0u);
  EXPECT_FALSE(parse_bytes(""));
  EXPECT_FALSE(parse_bytes("K"));
  EXPECT_FALSE(parse_bytes("10MB"));
  EXPECT_FALSE(parse_bytes("-5"));
  EXPECT_FALSE(parse_bytes("99999999999999999999"));
  EXPECT_FALSE(parse_bytes("17179869184G")) << "overflow";
}

TEST(Bandwidth, SessionsOfOneUserShareBuckets) {
  UserBandwidth registry;
  BandwidthLimits limits;
  limits.user_download = 1000;
  auto a = registry.for_user("alice", limits);
  auto b = registry.for_user("alice", limits);
  auto c = registry.for_user("bob", limits);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a->download.rate(), 1000u);
  EXPECT_EQ(a->upload.rate(), 0u);
  a.reset();
  b.reset();
  auto fresh = registry.for_user("alice", limits);
  EXPECT_TRUE(fresh != nullptr) << "made again once the last session let go";
}

}  // namespace
}  // namespace muxio::ftpd
