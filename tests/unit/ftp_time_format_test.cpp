#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "ftp/time_format.hpp"

namespace muxio::ftp {
namespace {

constexpr std::int64_t k2026_11_23_123456 = 1795437296;

TEST(FtpMdtm, Formats) {
  EXPECT_EQ(format_mdtm(k2026_11_23_123456), "20261123123456");
  EXPECT_EQ(format_mdtm(0), "19700101000000");
  EXPECT_EQ(format_mdtm(-1), "19691231235959");
  EXPECT_EQ(format_mdtm(1709251199), "20240229235959");
  EXPECT_EQ(format_mdtm(946684800), "20000101000000");
}

TEST(FtpMdtm, ClampsToFourDigitYears) {
  EXPECT_EQ(format_mdtm(kMaxTimestamp), "99991231235959");
  EXPECT_EQ(format_mdtm(kMaxTimestamp + 1), "99991231235959");
  EXPECT_EQ(format_mdtm(INT64_MAX), "99991231235959");
  EXPECT_EQ(format_mdtm(kMinTimestamp), "00010101000000");
  EXPECT_EQ(format_mdtm(INT64_MIN), "00010101000000");
}

TEST(FtpMdtm, Parses) {
  EXPECT_EQ(parse_mdtm("20261123123456"), k2026_11_23_123456);
  EXPECT_EQ(parse_mdtm("19700101000000"), 0);
  EXPECT_EQ(parse_mdtm("19691231235959"), -1);
  EXPECT_EQ(parse_mdtm("20240229235959"), 1709251199);
  EXPECT_EQ(parse_mdtm("00010101000000"), kMinTimestamp);
  EXPECT_EQ(parse_mdtm("99991231235959"), kMaxTimestamp);
}

TEST(FtpMdtm, FractionIgnored) {
  EXPECT_EQ(parse_mdtm("20261123123456.789"), k2026_11_23_123456);
  EXPECT_EQ(parse_mdtm("20261123123456.0"), k2026_11_23_123456);
  EXPECT_EQ(parse_mdtm("20261123123456.123456789"), k2026_11_23_123456);
}

TEST(FtpMdtm, LeapSecondLandsOnTheNextMinute) {
  EXPECT_EQ(parse_mdtm("20261123123460"), 1795437300);
}

TEST(FtpMdtm, InvalidDatesRefused) {
  for (const char* bad : {
           "20261323123456",  // month 13
           "20260023123456",  // month 0
           "20260230000000",  // Feb 30
           "20250229000000",  // Feb 29 of a common year
           "21000229000000",  // 2100 is not a leap year
           "20260431000000",  // April 31
           "20261100123456",  // day 0
           "20261132123456",  // day 32
           "20261123243456",  // hour 24
           "20261123126056",  // minute 60
           "20261123123461",  // second 61
           "00000101000000",  // year 0
       }) {
    EXPECT_EQ(parse_mdtm(bad), std::nullopt) << bad;
  }
  EXPECT_NE(parse_mdtm("20000229000000"), std::nullopt);  // 2000 is a leap year
}

TEST(FtpMdtm, MalformedRefused) {
  for (const char* bad :
       {"", "2026112312345", "202611231234567", "20261123123456.", "20261123123456.x",
        "20261123123456.1.2", "2026112312345x", "-2026112312345", " 20261123123456",
        "20261123123456 ", "2026-11-23 12:34", "+0261123123456", "20261123123456Z"}) {
    EXPECT_EQ(parse_mdtm(bad), std::nullopt) << bad;
  }
}

TEST(FtpMdtm, RoundTripsOverTheWholeRange) {
  std::mt19937_64 rng(20261123);
  std::uniform_int_distribution<std::int64_t> dist(kMinTimestamp, kMaxTimestamp);
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t t = dist(rng);
    const std::string s = format_mdtm(t);
    ASSERT_EQ(s.size(), 14u) << t;
    ASSERT_EQ(parse_mdtm(s), t) << s;
  }
}

TEST(FtpCivilTime, BreaksDown) {
  const CivilTime c = to_civil_utc(k2026_11_23_123456);
  EXPECT_EQ(c.year, 2026);
  EXPECT_EQ(c.month, 11);
  EXPECT_EQ(c.day, 23);
  EXPECT_EQ(c.hour, 12);
  EXPECT_EQ(c.minute, 34);
  EXPECT_EQ(c.second, 56);
}

}  // namespace
}  // namespace muxio::ftp
