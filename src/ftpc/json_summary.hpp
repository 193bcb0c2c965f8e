// muxftp --json: what stdout gets at the end of a run, one object per transfer job inside
//   {"files":[{"direction":"get","remote":...,"status":"done","bytes":N,...},...],
//    "seconds":S,"status":N,"interrupted":false}
// Pure functions, unit-tested.
#pragma once

#include <string>
#include <string_view>

#include "ftpc/transfer.hpp"

namespace muxio::ftpc {

// A JSON string's content: '"' and '\' escaped, control characters as \u00XX; other bytes (UTF-8)
// as they are.
std::string json_escape(std::string_view s);
// One job as a JSON object: direction, remote, local, status (done, skipped, failed,
// not-started), bytes moved in this run, offset it started from, seconds, attempts, and size and
// error when known.
std::string job_json(const Job& job);
// The whole document around `files` (job objects joined with ','), with a final newline.
std::string json_summary(const std::string& files, double seconds, int status, bool interrupted);

}  // namespace muxio::ftpc
