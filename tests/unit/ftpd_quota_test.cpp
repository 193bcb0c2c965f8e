// Quotas and bandwidth settings: reservations that never pass a limit (also from several threads
// at once), an upload's reservation given back unless committed, measuring a home directory (links
// not followed, upload temporaries not counted), and rate strings.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "ftpd/bandwidth.hpp"
#include "ftpd/quota.hpp"
#include "muxio/event_loop.hpp"
#include "test_support.hpp"

namespace muxio::ftpd {
namespace {

namespace fs = std::filesystem;

TEST(QuotaUsage, ReservationsStopAtTheLimit) {
  QuotaUsage u;
  EXPECT_TRUE(u.needs_measuring());
  u.set_measured(u.start_measuring(), 900, 2);
  EXPECT_FALSE(u.needs_measuring());
  EXPECT_TRUE(u.reserve_bytes(100, 1000));
  EXPECT_FALSE(u.reserve_bytes(1, 1000)) << "1000 of 1000 used";
  EXPECT_EQ(u.bytes(), 1000u);
  u.release(100, 0);
  EXPECT_TRUE(u.reserve_bytes(100, 1000));
  EXPECT_TRUE(u.reserve_bytes(1ull << 40, 0)) << "0 means no limit";
  u.release(1ull << 40, 0);
  EXPECT_TRUE(u.reserve_file(3));
  EXPECT_FALSE(u.reserve_file(3));
  u.release(0, 1);
  EXPECT_TRUE(u.reserve_file(3));
  u.invalidate();
  EXPECT_TRUE(u.needs_measuring());
}

TEST(QuotaUsage, MeasurementGoesStale) {
  QuotaUsage u;
  TimePoint t0 = Clock::now();
  u.set_measured(u.start_measuring(), 1, 1, t0);
  EXPECT_FALSE(u.needs_measuring(t0 + std::chrono::minutes(1)));
  EXPECT_TRUE(u.needs_measuring(t0 + QuotaUsage::kMaxAge + std::chrono::seconds(1)));
}

// The defect CI found under load: a session's walk of the home (after another session's DELE)
// replaced the whole count, so an upload in progress lost its reservation and passed the quota.
TEST(QuotaUsage, AMeasurementKeepsTheReservationsOfUploadsInProgress) {
  QuotaUsage u;
  u.set_measured(u.start_measuring(), 0, 0);
  ASSERT_TRUE(u.reserve_bytes(400'000, 500'000));  // an upload in progress, its temporary unseen
  u.invalidate();                                  // someone deleted a file
  auto ticket = u.start_measuring();
  u.set_measured(ticket, 20'000, 1);  // the walk finds what is stored
  EXPECT_EQ(u.bytes(), 420'000u);
  EXPECT_FALSE(u.reserve_bytes(200'000, 500'000)) << "the upload goes on past the quota";
  u.release(400'000, 0);  // it fails: only what is stored remains
  EXPECT_EQ(u.bytes(), 20'000u);
}

TEST(QuotaUsage, WhatIsCommittedDuringAWalkCountsAndTheNextUploadMeasuresAgain) {
  QuotaUsage u;
  u.set_measured(u.start_measuring(), 0, 0);
  ASSERT_TRUE(u.reserve_file(0));
  ASSERT_TRUE(u.reserve_bytes(300, 0));
  auto ticket = u.start_measuring();
  u.commit(300, 1);  // renamed into place while the walk runs: maybe seen, maybe not
  u.set_measured(ticket, 1000, 4);
  EXPECT_EQ(u.bytes(), 1300u) << "counted, at worst twice, never missed";
  EXPECT_EQ(u.files(), 5u);
  EXPECT_TRUE(u.needs_measuring()) << "the estimate is corrected by the next walk";
  u.set_measured(u.start_measuring(), 1000, 4);
  EXPECT_FALSE(u.needs_measuring());
  EXPECT_EQ(u.bytes(), 1000u);
}

TEST(QuotaUsage, AFileBeingReplacedCountsOnceWhateverTheWalkSees) {
  QuotaUsage u;
  u.set_measured(u.start_measuring(), 700, 2);  // 500 of it is a file a STOR replaces
  u.forget_stored(500);
  EXPECT_EQ(u.bytes(), 200u);
  u.set_measured(u.start_measuring(), 700, 2);  // the old file is still on disk
  EXPECT_EQ(u.bytes(), 200u);
  ASSERT_TRUE(u.reserve_bytes(600, 1000));
  u.commit(600, 0, 500);  // the new file replaced the old one
  EXPECT_EQ(u.bytes(), 800u);
  u.set_measured(u.start_measuring(), 800, 2);
  EXPECT_EQ(u.bytes(), 800u);
  // A failed replacement: the old file counts again.
  u.forget_stored(600);
  ASSERT_TRUE(u.reserve_bytes(50, 0));
  u.release(50, 0);
  u.restore_stored(600);
  EXPECT_EQ(u.bytes(), 800u);
  u.set_measured(u.start_measuring(), 800, 2);
  EXPECT_EQ(u.bytes(), 800u);
}

TEST(QuotaUsage, ParallelUploadsCannotTogetherPassTheQuota) {
  QuotaUsage u;
  u.set_measured(u.start_measuring(), 0, 0);
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

// The reservation an upload's Transfer holds: whatever way the upload ends, the usage is left
// as it should be: stored if committed, as before if not (also when only destroyed).
TEST(QuotaReservation, GivesBackUnlessCommitted) {
  auto usage = std::make_shared<QuotaUsage>();
  usage->set_measured(usage->start_measuring(), 500, 1);
  const QuotaLimits limits{1000, 3};
  auto refusal = QuotaReservation::Refusal::bytes;
  {
    QuotaReservation r(usage, limits, false, 0, &refusal);
    EXPECT_EQ(refusal, QuotaReservation::Refusal::none);
    EXPECT_EQ(usage->files(), 2u) << "a new name takes a file slot";
    EXPECT_TRUE(r.take(400));
    EXPECT_FALSE(r.take(200)) << "500 + 400 + 200 would pass 1000";
    EXPECT_EQ(usage->bytes(), 900u);
    QuotaReservation moved = std::move(r);
    EXPECT_EQ(usage->bytes(), 900u) << "a move hands the reservation on, it gives nothing back";
  }  // destroyed mid-way, as with a session at a forced shutdown
  EXPECT_EQ(usage->bytes(), 500u);
  EXPECT_EQ(usage->files(), 1u);

  QuotaReservation failed(usage, limits, false, 0, &refusal);
  EXPECT_TRUE(failed.take(100));
  failed.release();
  EXPECT_EQ(usage->bytes(), 500u);

  QuotaReservation complete(usage, limits, false, 0, &refusal);
  EXPECT_TRUE(complete.take(100));
  complete.commit(false);
  EXPECT_EQ(usage->bytes(), 600u);
  EXPECT_EQ(usage->files(), 2u);
  complete.release();
  EXPECT_EQ(usage->bytes(), 600u) << "a committed reservation holds nothing more";
  EXPECT_FALSE(usage->needs_measuring());
}

TEST(QuotaReservation, ReplacingAFileCountsItOnlyIfTheUploadFails) {
  auto usage = std::make_shared<QuotaUsage>();
  usage->set_measured(usage->start_measuring(), 1000, 1);
  const QuotaLimits limits{1000, 0};
  auto refusal = QuotaReservation::Refusal::none;
  {
    QuotaReservation r(usage, limits, true, 300, &refusal);
    EXPECT_EQ(refusal, QuotaReservation::Refusal::none) << "the old file stops counting";
    EXPECT_EQ(usage->bytes(), 700u);
  }
  EXPECT_EQ(usage->bytes(), 1000u) << "a failed replacement: the old file counts again";
  QuotaReservation in_place(usage, limits, true, 0, &refusal);
  EXPECT_EQ(refusal, QuotaReservation::Refusal::bytes) << "at the limit, nothing to replace";
  EXPECT_EQ(usage->bytes(), 1000u);
  QuotaReservation r(usage, limits, true, 300, &refusal);
  EXPECT_TRUE(r.take(200));
  r.commit(true);
  EXPECT_EQ(usage->bytes(), 900u);
  EXPECT_TRUE(usage->needs_measuring()) << "written in place: measured again";
}

TEST(QuotaReservation, RefusesANewFileAtTheFileLimit) {
  auto usage = std::make_shared<QuotaUsage>();
  usage->set_measured(usage->start_measuring(), 0, 2);
  auto refusal = QuotaReservation::Refusal::none;
  QuotaReservation r(usage, QuotaLimits{0, 2}, false, 0, &refusal);
  EXPECT_EQ(refusal, QuotaReservation::Refusal::files);
  EXPECT_EQ(usage->files(), 2u);
  EXPECT_TRUE(r.take(1ull << 30)) << "a refused reservation holds and limits nothing";
  EXPECT_EQ(usage->bytes(), 0u);
}

// A shared quota that grants from a fixed room, as a cluster's ledger does; how the upload ended
// is recorded outside it, since the reservation destroys it.
struct SharedQuotaRecord {
  std::uint64_t room = 0;
  int asked = 0;
  int released = 0;
  int committed = 0;
  std::uint64_t written = 0;
  bool down = false;  // the ledger does not answer
};

class FakeSharedQuota final : public SharedQuota {
 public:
  explicit FakeSharedQuota(SharedQuotaRecord& record) : r_(record) {}
  Task<Result<std::uint64_t>> grant(std::uint64_t n) override {
    ++r_.asked;
    if (r_.down) co_return errno_code(EIO);
    if (r_.room < n) co_return std::uint64_t{0};
    const std::uint64_t given = std::min(r_.room, std::max<std::uint64_t>(n, 100));
    r_.room -= given;
    co_return given;
  }
  void commit(std::uint64_t written, bool) override {
    ++r_.committed;
    r_.written = written;
  }
  void release() override { ++r_.released; }

 private:
  SharedQuotaRecord& r_;
};

TEST(QuotaReservation, ASharedQuotaIsAskedForMoreOnlyWhenTheGrantRunsOut) {
  EventLoop loop;
  SharedQuotaRecord record{.room = 250};
  QuotaReservation r(std::make_unique<FakeSharedQuota>(record), 50);  // the first lease
  EXPECT_TRUE(r.take(30));
  EXPECT_FALSE(r.take(30)) << "20 of the 50 granted are left";
  auto more = [&](std::uint64_t n) -> Task<std::error_code> {
    const std::error_code ec = co_await r.take_granted(n);
    co_return ec;
  };
  const std::error_code first = loop.run_until_complete(more(30));
  EXPECT_FALSE(first);
  EXPECT_EQ(record.asked, 1);
  EXPECT_TRUE(r.take(90)) << "the lease of 100 covers it";
  EXPECT_EQ(record.asked, 1);
  const std::error_code second = loop.run_until_complete(more(140));
  EXPECT_FALSE(second) << "150 of the room are left";
  record.down = true;
  const std::error_code unanswered = loop.run_until_complete(more(100));
  EXPECT_EQ(unanswered.value(), EIO) << "a ledger that does not answer is not a full quota";
  record.down = false;
  const std::error_code third = loop.run_until_complete(more(100));
  EXPECT_EQ(third.value(), EDQUOT) << "the room is used up";
  r.commit(false);
  EXPECT_EQ(record.committed, 1);
  EXPECT_EQ(record.written, 290u);
  EXPECT_EQ(record.released, 0);
}

TEST(QuotaReservation, ASharedQuotaIsReleasedOnceUnlessCommitted) {
  SharedQuotaRecord record{.room = 1000};
  {
    QuotaReservation r(std::make_unique<FakeSharedQuota>(record), 100);
    EXPECT_TRUE(r.take(10));
    QuotaReservation moved = std::move(r);  // the Transfer takes it over
    EXPECT_TRUE(moved.take(10));
  }
  EXPECT_EQ(record.released, 1) << "released by the reservation that held it last";
  EXPECT_EQ(record.committed, 0);
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
