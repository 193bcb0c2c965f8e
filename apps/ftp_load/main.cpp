// ftp-load: an FTP load generator. N clients over T threads (each thread one edge-triggered epoll
// loop of coroutines, see reactor.hpp) log in and then download, upload, list or idle against
// any FTP server, for a bounded time or number of rounds, plain or explicit FTPS. It reports
// operations and bytes per second, latency percentiles, failures by reason and its own CPU time,
// so that a benchmark can show the client was not the bottleneck.
//
//   ftp-load 127.0.0.1:2121 --user u --password p --mode retr --path big.bin --clients 100
//   ftp-load HOST:PORT --mode idle --clients 10000 --seconds 20   # prints "ready N" when held

#include <netdb.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "scenario.hpp"

namespace ftp_load {
namespace {

struct Config {
  std::string target;
  std::string mode = "login";
  int clients = 1;
  int threads = 1;
  double seconds = 5;
  double timeout = 30;
  bool tls = false;
  bool json = false;
};

Endpoint resolve(const std::string& target) {
  auto colon = target.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("target must be HOST:PORT");
  std::string host = target.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), target.substr(colon + 1).c_str(), &hints, &res);
  if (rc != 0) throw std::runtime_error(target + ": " + gai_strerror(rc));
  Endpoint e;
  std::memcpy(&e.addr, res->ai_addr, res->ai_addrlen);
  e.len = res->ai_addrlen;
  ::freeaddrinfo(res);
  return e;
}

Mode parse_mode(const std::string& s) {
  if (s == "login") return Mode::login;
  if (s == "retr") return Mode::retr;
  if (s == "stor") return Mode::stor;
  if (s == "list") return Mode::list;
  if (s == "idle") return Mode::idle;
  throw std::runtime_error("unknown mode " + s);
}

void raise_nofile_limit(int clients) {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  rlim_t want = static_cast<rlim_t>(clients) * 2 + 64;  // control + data per client
  if (r.rlim_cur < want) {
    r.rlim_cur = std::min(want, r.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

SSL_CTX* make_tls_context() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) throw std::runtime_error("SSL_CTX_new failed");
  // A load generator measures servers with test certificates: it does not verify them. A
  // server's data connection may end without close_notify; the control reply says if it counted.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  return ctx;
}

// Kills the process if the run overruns its bound by far (a server that stopped answering in a
// way no deadline caught): a load loop must end.
void start_watchdog(double seconds) {
  std::thread([seconds] {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    std::fprintf(stderr, "ftp-load: the run overran its bound of %.0f s; stopping\n", seconds);
    std::_Exit(3);
  }).detach();
}

struct Result {
  Stats stats;
  double elapsed = 0;
  double cpu = 0;
  int logged_in = 0;
};

// Waits until every client logged in or gave up, then starts the measurement.
Nanos open_the_gate(RunState& run, const Config& cfg, Mode mode) {
  while (run.settled.load() < cfg.clients)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Nanos start = now_ns();
  run.end = cfg.seconds > 0 ? start + static_cast<Nanos>(cfg.seconds * 1e9)
                            : std::numeric_limits<Nanos>::max();
  run.go = true;
  if (mode == Mode::idle) {
    std::printf("ready %d\n", run.logged_in.load());
    std::fflush(stdout);
  }
  return start;
}

Result run_load(const Config& cfg, RunState& run) {
  std::vector<Stats> per_thread(static_cast<std::size_t>(cfg.threads));
  std::vector<std::thread> threads;
  double cpu_before = cpu_seconds();
  for (int t = 0; t < cfg.threads; ++t) {
    threads.emplace_back([&, t] {
      Reactor reactor(run.go);
      for (int c = t; c < cfg.clients; c += cfg.threads)
        reactor.spawn(run_client(reactor, run, per_thread[static_cast<std::size_t>(t)], c));
      reactor.run();
    });
  }
  Nanos start = open_the_gate(run, cfg, run.scenario.mode);
  for (auto& th : threads)
    th.join();
  Result r;
  for (const auto& s : per_thread)
    r.stats.merge(s);
  r.cpu = cpu_seconds() - cpu_before;
  r.elapsed = static_cast<double>(std::max(r.stats.last_end, now_ns()) - start) / 1e9;
  r.logged_in = run.logged_in.load();
  return r;
}

std::string json_escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

void print_result(const Config& cfg, Result& r) {
  const double mb = static_cast<double>(r.stats.bytes) / 1e6;
  const double p50 = percentile_ms(r.stats.latency_us, 50);
  const double p99 = percentile_ms(r.stats.latency_us, 99);
  const double max = percentile_ms(r.stats.latency_us, 100);
  const double ops = static_cast<double>(r.stats.ops);
  if (cfg.json) {
    std::string failures;
    for (const auto& [reason, n] : r.stats.failures)
      failures += fmt::format("{}\"{}\":{}", failures.empty() ? "" : ",", json_escaped(reason), n);
    fmt::print(
        "{{\"mode\":\"{}\",\"clients\":{},\"threads\":{},\"tls\":{},\"ops\":{},\"bytes\":{},"
        "\"seconds\":{:.3f},\"ops_per_sec\":{:.1f},\"mb_per_sec\":{:.1f},\"p50_ms\":{:.3f},"
        "\"p99_ms\":{:.3f},\"max_ms\":{:.3f},\"cpu_seconds\":{:.3f},\"cpu_us_per_op\":{:.1f},"
        "\"cpu_ms_per_mb\":{:.3f},\"failures\":{{{}}}}}\n",
        cfg.mode, cfg.clients, cfg.threads, cfg.tls, r.stats.ops, r.stats.bytes, r.elapsed,
        ops / r.elapsed, mb / r.elapsed, p50, p99, max, r.cpu, ops > 0 ? r.cpu * 1e6 / ops : 0.0,
        mb > 0 ? r.cpu * 1e3 / mb : 0.0, failures);
    return;
  }
  fmt::print("ftp-load {} {}: {} clients on {} thread(s){}\n", cfg.mode, cfg.target, cfg.clients,
             cfg.threads, cfg.tls ? ", FTPS" : "");
  fmt::print("  {} operations in {:.2f} s: {:.1f}/s", r.stats.ops, r.elapsed, ops / r.elapsed);
  if (r.stats.bytes > 0) fmt::print(", {:.1f} MB/s", mb / r.elapsed);
  fmt::print("\n  latency ms: p50 {:.2f}, p99 {:.2f}, max {:.2f}\n", p50, p99, max);
  fmt::print("  client CPU {:.2f} s ({:.0f} % of one core)", r.cpu, 100 * r.cpu / r.elapsed);
  if (ops > 0) fmt::print(", {:.1f} us per operation", r.cpu * 1e6 / ops);
  if (mb > 0) fmt::print(", {:.3f} ms per MB", r.cpu * 1e3 / mb);
  fmt::print("\n  failures: {}\n", r.stats.failures.empty() ? "none" : "");
  for (const auto& [reason, n] : r.stats.failures)
    fmt::print("    {}: {}\n", reason, n);
}

}  // namespace
}  // namespace ftp_load

int main(int argc, char** argv) {
  using namespace ftp_load;
  Config cfg;
  RunState run;
  std::string password_env;
  CLI::App app{"ftp-load: an FTP load generator (login, retr, stor, list, idle; plain or FTPS)"};
  app.add_option("target", cfg.target, "the server, HOST:PORT or [V6]:PORT")->required();
  app.add_option("--mode", cfg.mode, "login | retr | stor | list | idle")
      ->check(CLI::IsMember({"login", "retr", "stor", "list", "idle"}));
  app.add_option("--user", run.client.user, "the account every client logs in as")->required();
  app.add_option("--password", run.client.password, "its password");
  app.add_option("--password-env", password_env, "the environment variable holding it");
  app.add_option("--clients,-c", cfg.clients, "simultaneous clients")->check(CLI::Range(1, 100000));
  app.add_option("--threads,-t", cfg.threads, "threads (epoll loops)")->check(CLI::Range(1, 64));
  app.add_option("--seconds,-s", cfg.seconds, "the measurement's length (0: --rounds only)")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--rounds,-r", run.scenario.rounds, "operations per client (0: until --seconds)");
  app.add_option("--path", run.scenario.path,
                 "retr: the file; list: the directory; stor: the name prefix");
  app.add_option("--list-command", run.scenario.list_command, "LIST | NLST | MLSD")
      ->check(CLI::IsMember({"LIST", "NLST", "MLSD"}));
  app.add_option("--size", run.scenario.size, "stor: bytes per upload");
  app.add_option("--timeout", cfg.timeout, "seconds one step may take (a stall, not a transfer)")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_flag("--tls", cfg.tls, "explicit FTPS: AUTH TLS, PROT P (certificates not verified)");
  app.add_flag("--json", cfg.json, "one JSON object instead of text");
  CLI11_PARSE(app, argc, argv);
  try {
    run.scenario.mode = parse_mode(cfg.mode);
    if (cfg.seconds == 0 && run.scenario.rounds == 0)
      throw std::runtime_error("--seconds 0 needs --rounds");
    if (run.scenario.mode == Mode::retr && run.scenario.path.empty())
      throw std::runtime_error("retr needs --path");
    if (run.scenario.mode == Mode::stor && run.scenario.path.empty())
      run.scenario.path = "ftp-load";
    if (!password_env.empty()) {
      const char* p = std::getenv(password_env.c_str());
      if (p == nullptr) throw std::runtime_error(password_env + " is not set");
      run.client.password = p;
    }
    run.server = resolve(cfg.target);
    run.client.step_timeout = static_cast<Nanos>(cfg.timeout * 1e9);
    if (cfg.tls) run.client.tls = make_tls_context();
    run.upload_pattern.resize(256 * 1024);
    for (std::size_t i = 0; i < run.upload_pattern.size(); ++i)
      run.upload_pattern[i] = static_cast<char>('a' + i % 26);
    raise_nofile_limit(cfg.clients);
    std::signal(SIGPIPE, SIG_IGN);
    // Logins, then the measurement, then each client's last step may take a timeout.
    double bound = 2 * cfg.timeout + cfg.seconds + 30;
    if (run.scenario.rounds > 0 && cfg.seconds == 0) bound = 24 * 3600;  // counted, not timed
    start_watchdog(bound);
    Result r = run_load(cfg, run);
    print_result(cfg, r);
    if (run.client.tls != nullptr) SSL_CTX_free(run.client.tls);
    return r.stats.failure_count() == 0 && r.stats.ops > 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ftp-load: %s\n", e.what());
    return 2;
  }
}
