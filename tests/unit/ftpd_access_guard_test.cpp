// AccessGuard: session limits, slots given back, login-failure delays and bans, on a fake clock.
#include "ftpd/access_guard.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "ftpd/config.hpp"
#include "test_support.hpp"

namespace muxio::ftpd {
namespace {

using namespace std::chrono_literals;

// A clock the test moves by hand.
struct FakeClock {
  TimePoint now{};
  AccessGuard::Now source() {
    return [this] { return now; };
  }
};

AccessLimits limits(std::size_t total, std::size_t per_ip, std::size_t per_user) {
  AccessLimits l;
  l.max_sessions = total;
  l.max_sessions_per_ip = per_ip;
  l.max_sessions_per_user = per_user;
  return l;
}

AccessLimits ban_after(unsigned failures, std::chrono::seconds ban) {
  AccessLimits l;
  l.max_login_failures = failures;
  l.ban_seconds = ban;
  return l;
}

TEST(AccessGuard, RefusesPastTheLimitPerAddress) {
  AccessGuard guard(limits(100, 2, 0));
  auto a = guard.admit_connection("10.0.0.1");
  auto b = guard.admit_connection("10.0.0.1");
  EXPECT_EQ(a.refusal, Refusal::none);
  EXPECT_TRUE(a.slot.held());
  EXPECT_EQ(b.refusal, Refusal::none);
  auto c = guard.admit_connection("10.0.0.1");
  EXPECT_EQ(c.refusal, Refusal::too_many_from_address);
  EXPECT_FALSE(c.slot.held());
  EXPECT_EQ(guard.admit_connection("10.0.0.2").refusal, Refusal::none) << "other addresses";
  EXPECT_EQ(guard.sessions(), 2u) << "the refused and the released slot are not counted";
}

TEST(AccessGuard, RefusesPastTheTotal) {
  AccessGuard guard(limits(2, 0, 0));
  auto a = guard.admit_connection("10.0.0.1");
  auto b = guard.admit_connection("10.0.0.2");
  EXPECT_EQ(guard.admit_connection("10.0.0.3").refusal, Refusal::too_many_sessions);
  EXPECT_EQ(guard.sessions(), 2u);
}

TEST(AccessGuard, SlotsGiveThePlaceBackWhenDestroyedMovedOrReassigned) {
  AccessGuard guard(limits(1, 1, 0));
  {
    auto a = guard.admit_connection("10.0.0.1");
    ASSERT_TRUE(a.slot.held());
    AccessGuard::Slot moved = std::move(a.slot);
    EXPECT_FALSE(a.slot.held());
    EXPECT_EQ(guard.sessions(), 1u) << "a move keeps one place";
    EXPECT_EQ(guard.admit_connection("10.0.0.1").refusal, Refusal::too_many_sessions);
  }
  EXPECT_EQ(guard.sessions(), 0u);
  auto b = guard.admit_connection("10.0.0.1");
  ASSERT_TRUE(b.slot.held());
  b.slot = AccessGuard::Slot();  // assigned over: released
  EXPECT_EQ(guard.sessions(), 0u);
  EXPECT_EQ(guard.admit_connection("10.0.0.1").refusal, Refusal::none);
}

TEST(AccessGuard, UserLimitCountsNamedSessions) {
  AccessGuard guard(limits(0, 0, 2));
  auto a = guard.admit_user("alice");
  auto b = guard.admit_user("alice");
  EXPECT_EQ(guard.admit_user("alice").refusal, Refusal::too_many_for_user);
  EXPECT_EQ(guard.admit_user("bob").refusal, Refusal::none);
  a.slot = AccessGuard::Slot();
  EXPECT_EQ(guard.admit_user("alice").refusal, Refusal::none) << "a place was given back";
  EXPECT_EQ(guard.sessions(), 0u) << "user places are not connections";
}

TEST(AccessGuard, ZeroMeansNoLimit) {
  AccessGuard guard(limits(0, 0, 0));
  std::vector<AccessGuard::Slot> slots;
  for (int i = 0; i < 500; ++i) {
    auto a = guard.admit_connection("10.0.0.1");
    ASSERT_EQ(a.refusal, Refusal::none);
    slots.push_back(std::move(a.slot));
    auto u = guard.admit_user("alice");
    ASSERT_EQ(u.refusal, Refusal::none);
    slots.push_back(std::move(u.slot));
  }
  EXPECT_EQ(guard.sessions(), 500u);
  slots.clear();
  EXPECT_EQ(guard.sessions(), 0u);
}

TEST(AccessGuard, NewLimitsApplyToNewSessions) {
  AccessGuard guard(limits(0, 5, 0));
  auto a = guard.admit_connection("10.0.0.1");
  auto b = guard.admit_connection("10.0.0.1");
  guard.set_limits(limits(0, 1, 0));
  EXPECT_EQ(guard.admit_connection("10.0.0.1").refusal, Refusal::too_many_from_address);
  EXPECT_TRUE(a.slot.held() && b.slot.held()) << "sessions already in stay";
}

TEST(AccessGuard, FailureDelayGrowsAndIsCapped) {
  EXPECT_EQ(AccessGuard::login_failure_delay(0), Duration::zero());
  EXPECT_EQ(AccessGuard::login_failure_delay(1), Duration(1s));
  EXPECT_EQ(AccessGuard::login_failure_delay(2), Duration(2s));
  EXPECT_EQ(AccessGuard::login_failure_delay(3), Duration(4s));
  EXPECT_EQ(AccessGuard::login_failure_delay(4), Duration(8s));
  EXPECT_EQ(AccessGuard::login_failure_delay(5), Duration(8s));
  EXPECT_EQ(AccessGuard::login_failure_delay(4000000000u), Duration(8s));
}

TEST(AccessGuard, BansAnAddressAfterTooManyFailuresUntilTheBanEnds) {
  FakeClock clock;
  AccessGuard guard(ban_after(3, 60s), clock.source());
  EXPECT_EQ(guard.record_login_failure("10.0.0.1"), 1u);
  clock.now += 10s;
  EXPECT_EQ(guard.record_login_failure("10.0.0.1"), 2u);
  EXPECT_FALSE(guard.is_banned("10.0.0.1"));
  clock.now += 10s;
  EXPECT_EQ(guard.record_login_failure("10.0.0.1"), 3u);
  EXPECT_TRUE(guard.is_banned("10.0.0.1"));
  EXPECT_EQ(guard.admit_connection("10.0.0.1").refusal, Refusal::banned);
  EXPECT_FALSE(guard.is_banned("10.0.0.2")) << "other addresses are not touched";
  EXPECT_EQ(guard.admit_connection("10.0.0.2").refusal, Refusal::none);

  clock.now += 59s;
  EXPECT_TRUE(guard.is_banned("10.0.0.1"));
  clock.now += 1s;
  EXPECT_FALSE(guard.is_banned("10.0.0.1")) << "the ban lasts ban_seconds";
  EXPECT_EQ(guard.admit_connection("10.0.0.1").refusal, Refusal::none);
  EXPECT_EQ(guard.record_login_failure("10.0.0.1"), 1u) << "a fresh count after a ban";
}

TEST(AccessGuard, FailuresAreForgottenAfterAQuietSpell) {
  FakeClock clock;
  AccessGuard guard(ban_after(3, 60s), clock.source());
  guard.record_login_failure("10.0.0.1");
  guard.record_login_failure("10.0.0.1");
  clock.now += 60s;
  EXPECT_EQ(guard.record_login_failure("10.0.0.1"), 1u);
  EXPECT_FALSE(guard.is_banned("10.0.0.1"));
}

TEST(AccessGuard, ASuccessfulLoginElsewhereDoesNotResetTheCount) {
  // There is no "success" call at all: an attacker who owns one account gains nothing by
  // logging in with it between guesses.
  FakeClock clock;
  AccessGuard guard(ban_after(2, 60s), clock.source());
  guard.record_login_failure("10.0.0.1");
  auto user = guard.admit_user("mallory");
  guard.record_login_failure("10.0.0.1");
  EXPECT_TRUE(guard.is_banned("10.0.0.1"));
}

TEST(AccessGuard, ZeroFailuresNeverBans) {
  FakeClock clock;
  AccessGuard guard(ban_after(0, 60s), clock.source());
  for (unsigned i = 1; i <= 100; ++i)
    EXPECT_EQ(guard.record_login_failure("10.0.0.1"), i);
  EXPECT_FALSE(guard.is_banned("10.0.0.1"));
}

TEST(AccessGuard, FailureTableIsBoundedAndKeepsItsBans) {
  FakeClock clock;
  AccessLimits l = ban_after(1, 60s);
  l.max_tracked_addresses = 3;
  AccessGuard guard(l, clock.source());
  for (const char* ip : {"10.0.0.1", "10.0.0.2", "10.0.0.3"})
    guard.record_login_failure(ip);
  EXPECT_EQ(guard.tracked_addresses(), 3u);
  EXPECT_EQ(guard.record_login_failure("10.0.0.4"), 0u) << "full: not tracked";
  EXPECT_FALSE(guard.is_banned("10.0.0.4"));
  EXPECT_TRUE(guard.is_banned("10.0.0.1")) << "a flood of new addresses does not lift bans";
  EXPECT_EQ(guard.tracked_addresses(), 3u);

  clock.now += 60s;  // every entry is stale now: the next new address makes room
  EXPECT_EQ(guard.record_login_failure("10.0.0.4"), 1u);
  EXPECT_EQ(guard.tracked_addresses(), 1u);
}

TEST(AccessGuard, StaleEntriesLeaveTheTableWhenLookedUp) {
  FakeClock clock;
  AccessGuard guard(ban_after(5, 60s), clock.source());
  guard.record_login_failure("10.0.0.1");
  EXPECT_EQ(guard.tracked_addresses(), 1u);
  clock.now += 61s;
  EXPECT_EQ(guard.admit_connection("10.0.0.1").refusal, Refusal::none);
  EXPECT_EQ(guard.tracked_addresses(), 0u);
}

TEST(AccessGuard, ManyThreadsKeepTheCountsExact) {
  AccessGuard guard(limits(0, 0, 0));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&guard, t] {
      std::string ip = "10.0.0." + std::to_string(t % 2);
      for (int i = 0; i < 2000; ++i) {
        auto a = guard.admit_connection(ip);
        auto u = guard.admit_user("alice");
        guard.record_login_failure(ip);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(guard.sessions(), 0u);
  EXPECT_TRUE(guard.is_banned("10.0.0.1")) << "4000 failures, counted across threads";
  EXPECT_EQ(guard.admit_connection("10.0.0.9").refusal, Refusal::none);
}

TEST(AccessGuard, LimitsLoadFromTheConfigFile) {
  auto path = std::filesystem::temp_directory_path() /
              ("muxftpd-limits-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << "max_sessions = 7\nmax_sessions_per_ip = -1\nmax_sessions_per_user = 2\n"
                         "max_login_failures = 4\nban_seconds = 30\n";
  ServerConfig cfg;
  std::string error;
  ASSERT_FALSE(load_config_file(path.string(), cfg, &error)) << error;
  std::filesystem::remove(path);
  EXPECT_EQ(cfg.limits.max_sessions, 7u);
  EXPECT_EQ(cfg.limits.max_sessions_per_ip, AccessLimits{}.max_sessions_per_ip) << "negative";
  EXPECT_EQ(cfg.limits.max_sessions_per_user, 2u);
  EXPECT_EQ(cfg.limits.max_login_failures, 4u);
  EXPECT_EQ(cfg.limits.ban_seconds, 30s);
}

TEST(AccessGuard, RefusalsAreDescribed) {
  EXPECT_EQ(AccessGuard::describe(Refusal::too_many_for_user), "Too many sessions for this user.");
  for (Refusal r : {Refusal::banned, Refusal::too_many_sessions, Refusal::too_many_from_address})
    EXPECT_FALSE(AccessGuard::describe(r).empty());
}

}  // namespace
}  // namespace muxio::ftpd
