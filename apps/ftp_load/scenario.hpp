// What each simulated client does in each mode of ftp-load, and the run's shared state.
//
//   login  connect, log in, QUIT, again: each login (connect to 230) is one operation
//   retr   log in once, then RETR `path` again and again (the size checked against SIZE)
//   stor   log in once, then STOR `size` bytes to a name of the client's own, again and again
//   list   log in once, then LIST/NLST/MLSD of `path` again and again
//   idle   log in, then stay silent until the end: one operation per session held
//
// Except in login mode, every client logs in first; the measurement starts when all have logged
// in (or failed to), so logins do not count against transfer rates.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "ftp_client.hpp"
#include "stats.hpp"

namespace ftp_load {

enum class Mode { login, retr, stor, list, idle };

struct Scenario {
  Mode mode = Mode::login;
  std::string path;  // retr: the file; list: the directory; stor: the name prefix
  std::string list_command = "LIST";
  std::uint64_t size = 0;    // stor: bytes per upload
  std::uint64_t rounds = 0;  // operations per client; 0: until the end of the measurement
};

// Shared by every thread of a run.
struct RunState {
  Endpoint server;
  ClientOptions client;
  Scenario scenario;
  std::string upload_pattern;   // the bytes uploads repeat
  std::atomic<int> settled{0};  // clients done with their login (success or not)
  std::atomic<int> logged_in{0};
  std::atomic<bool> go{false};  // the measurement starts
  std::atomic<Nanos> end{0};    // and ends (no new operation starts after it)
};

// One client, from its first connection to its QUIT; what it did goes to `stats`.
Task<void> run_client(Reactor& reactor, RunState& run, Stats& stats, int id);

}  // namespace ftp_load
