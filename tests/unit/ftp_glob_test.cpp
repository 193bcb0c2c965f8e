#include "ftp/glob.hpp"

#include <gtest/gtest.h>

#include <string>

using muxio::ftp::glob_match;
using muxio::ftp::has_wildcards;
using muxio::ftp::split_glob_target;

TEST(Glob, StarAndQuestionMark) {
  EXPECT_TRUE(glob_match("*.bin", "a.bin"));
  EXPECT_TRUE(glob_match("*.bin", ".bin.bin") == false) << "hidden files need a leading '.'";
  EXPECT_FALSE(glob_match("*.bin", "a.bin.txt"));
  EXPECT_TRUE(glob_match("report-??.txt", "report-07.txt"));
  EXPECT_FALSE(glob_match("report-??.txt", "report-7.txt"));
  EXPECT_TRUE(glob_match("*", "anything at all"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(glob_match("**", ""));
  EXPECT_FALSE(glob_match("?", ""));
}

TEST(Glob, Sets) {
  EXPECT_TRUE(glob_match("[abc].txt", "b.txt"));
  EXPECT_FALSE(glob_match("[abc].txt", "d.txt"));
  EXPECT_TRUE(glob_match("[a-f]9", "e9"));
  EXPECT_FALSE(glob_match("[a-f]9", "g9"));
  EXPECT_TRUE(glob_match("[!a-f]9", "g9"));
  EXPECT_TRUE(glob_match("[^a-f]9", "g9"));
  EXPECT_FALSE(glob_match("[!a-f]9", "a9"));
  EXPECT_TRUE(glob_match("[]x]", "]"));
  EXPECT_TRUE(glob_match("[a-]", "-"));
  EXPECT_TRUE(glob_match("a[b", "a[b")) << "an unclosed '[' is a plain character";
}

TEST(Glob, HiddenNamesNeedALeadingDot) {
  EXPECT_FALSE(glob_match("*", ".profile"));
  EXPECT_FALSE(glob_match("?profile", ".profile"));
  EXPECT_TRUE(glob_match(".*", ".profile"));
}

TEST(Glob, BackslashQuotes) {
  EXPECT_TRUE(glob_match("\\*", "*"));
  EXPECT_FALSE(glob_match("\\*", "x"));
  EXPECT_TRUE(glob_match("a\\?", "a?"));
  EXPECT_FALSE(has_wildcards("a\\*b"));
  EXPECT_TRUE(has_wildcards("a*b"));
  EXPECT_TRUE(has_wildcards("[ab]"));
  EXPECT_FALSE(has_wildcards("plain.txt"));
}

// A pattern that makes a backtracking matcher take exponential time is answered at once: the
// cost is bounded by pattern length × name length.
TEST(Glob, PathologicalPatternsCostLinearTime) {
  std::string pattern;
  for (int i = 0; i < 200; ++i)
    pattern += "a*";
  pattern += "b";
  const std::string name(5000, 'a');
  EXPECT_FALSE(glob_match(pattern, name));
}

TEST(Glob, SplitsTheLastComponent) {
  auto t = split_glob_target("dir/sub/*.bin");
  EXPECT_EQ(t.directory, "dir/sub/");
  EXPECT_EQ(t.pattern, "*.bin");
  auto bare = split_glob_target("*.bin");
  EXPECT_EQ(bare.directory, "");
  EXPECT_EQ(bare.pattern, "*.bin");
  auto rooted = split_glob_target("/x*");
  EXPECT_EQ(rooted.directory, "/");
  EXPECT_EQ(rooted.pattern, "x*");
}
