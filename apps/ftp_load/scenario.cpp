#include "scenario.hpp"

namespace ftp_load {

namespace {

// After a failed login or operation a client pauses this long, so a server that refuses
// everyone is not answered with a busy loop.
constexpr Nanos kRetryPauseNs = 10'000'000;

// Logs in (and, for retr, learns the size to expect); the reason it failed, or "".
Task<std::string> try_login(FtpClient& ftp, const RunState& run, std::uint64_t& expected) {
  std::string failure;
  try {
    co_await ftp.login();
    if (run.scenario.mode == Mode::retr) {
      std::string path = run.scenario.path;
      expected = co_await ftp.size(path);
    }
  } catch (const Failure& f) {
    failure = f.what();
  }
  co_return failure;
}

// One operation of a retr, stor or list client; the bytes it moved.
Task<std::uint64_t> one_operation(FtpClient& ftp, const RunState& run, int id,
                                  std::uint64_t expected) {
  const Scenario& s = run.scenario;
  if (s.mode == Mode::stor) {
    std::string name = s.path + "-" + std::to_string(id) + ".bin";
    co_await ftp.upload(name, s.size, run.upload_pattern);
    co_return s.size;
  }
  std::string command = s.mode == Mode::retr ? "RETR " + s.path : s.list_command;
  if (s.mode == Mode::list && !s.path.empty()) command += " " + s.path;
  std::uint64_t n = co_await ftp.download(command);
  if (s.mode == Mode::retr && n != expected) throw Failure("RETR: short");
  co_return n;
}

bool more_rounds(const RunState& run, std::uint64_t round) {
  return (run.scenario.rounds == 0 || round < run.scenario.rounds) && now_ns() < run.end.load();
}

Task<void> login_client(Reactor& reactor, RunState& run, Stats& stats) {
  ++run.settled;
  co_await reactor.gate();
  for (std::uint64_t round = 0; more_rounds(run, round); ++round) {
    FtpClient ftp(reactor, run.server, run.client);
    Nanos start = now_ns();
    std::string failure;
    try {
      co_await ftp.login();
      stats.record(start, now_ns(), 0);
      co_await ftp.quit();
    } catch (const Failure& f) {
      failure = f.what();
    }
    if (failure.empty()) continue;
    stats.fail(failure);
    co_await reactor.sleep_until(now_ns() + kRetryPauseNs);
  }
}

Task<void> idle_client(FtpClient& ftp, RunState& run, Stats& stats) {
  Nanos start = now_ns();
  std::string failure;
  try {
    co_await ftp.hold(run.end.load());
    co_await ftp.quit();
  } catch (const Failure& f) {
    failure = f.what();
  }
  if (failure.empty()) {
    stats.record(start, now_ns(), 0);
  } else {
    stats.fail(failure);
  }
}

// retr, stor, list and idle: one login, then operations on the same session.
Task<void> session_client(Reactor& reactor, RunState& run, Stats& stats, int id) {
  FtpClient ftp(reactor, run.server, run.client);
  std::uint64_t expected = 0;
  std::string failure = co_await try_login(ftp, run, expected);
  if (failure.empty()) ++run.logged_in;
  ++run.settled;
  co_await reactor.gate();
  if (!failure.empty()) {
    stats.fail(failure);
    co_return;
  }
  if (run.scenario.mode == Mode::idle) {
    co_await idle_client(ftp, run, stats);
    co_return;
  }
  for (std::uint64_t round = 0; more_rounds(run, round); ++round) {
    Nanos start = now_ns();
    std::uint64_t bytes = 0;
    try {
      bytes = co_await one_operation(ftp, run, id, expected);
    } catch (const Failure& f) {
      failure = f.what();
    }
    if (failure.empty()) {
      stats.record(start, now_ns(), bytes);
      continue;
    }
    stats.fail(failure);
    // The session may be unusable after a failure: a new one, as a user's client would.
    co_await reactor.sleep_until(now_ns() + kRetryPauseNs);
    failure = co_await try_login(ftp, run, expected);
    if (!failure.empty()) {
      stats.fail(failure);
      co_return;
    }
  }
  try {
    co_await ftp.quit();
  } catch (const Failure& f) {
    failure = f.what();
  }
  if (!failure.empty()) stats.fail(failure);
}

}  // namespace

Task<void> run_client(Reactor& reactor, RunState& run, Stats& stats, int id) {
  if (run.scenario.mode == Mode::login) {
    co_await login_client(reactor, run, stats);
  } else {
    co_await session_client(reactor, run, stats, id);
  }
}

}  // namespace ftp_load
