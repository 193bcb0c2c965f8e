// muxftp --json: escaping, one job as an object, the document around them.
#include <gtest/gtest.h>

#include "ftpc/json_summary.hpp"

using namespace muxio::ftpc;

TEST(JsonSummary, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_escape("plain name.txt"), "plain name.txt");
  EXPECT_EQ(json_escape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(json_escape("tab\there\nnl"), "tab\\u0009here\\u000anl");
  EXPECT_EQ(json_escape("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 passes through
}

TEST(JsonSummary, AJobWithItsCountsSizeAndError) {
  Job j;
  j.direction = JobKind::put;
  j.remote = "/up/\"q\".bin";
  j.local = "q.bin";
  j.state = JobState::failed;
  j.start_offset = 100;
  j.position = 350;
  j.seconds = 1.5;
  j.attempts = 2;
  j.size = 1000;
  j.error = "550 denied";
  EXPECT_EQ(job_json(j),
            "{\"direction\":\"put\",\"remote\":\"/up/\\\"q\\\".bin\",\"local\":\"q.bin\","
            "\"status\":\"failed\",\"bytes\":250,\"offset\":100,\"seconds\":1.500,"
            "\"attempts\":2,\"size\":1000,\"error\":\"550 denied\"}");
}

TEST(JsonSummary, AQueuedJobWithoutSizeHasNeither) {
  Job j;
  j.remote = "f";
  j.local = "f";
  EXPECT_EQ(job_json(j),
            "{\"direction\":\"get\",\"remote\":\"f\",\"local\":\"f\",\"status\":\"not-started\","
            "\"bytes\":0,\"offset\":0,\"seconds\":0.000,\"attempts\":0}");
}

TEST(JsonSummary, TheDocument) {
  EXPECT_EQ(json_summary("{}", 2.25, 130, true),
            "{\"files\":[{}],\"seconds\":2.250,\"status\":130,\"interrupted\":true}\n");
  EXPECT_EQ(json_summary("", 0, 0, false),
            "{\"files\":[],\"seconds\":0.000,\"status\":0,\"interrupted\":false}\n");
}
