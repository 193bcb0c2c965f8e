// muxftpd: the FTP server. `muxftpd --help` for the flags, `muxftpd passwd FILE NAME` to add a
// user to a users file. Configuration reference: docs/muxftpd.example.toml.
#include <sodium.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>

#include "ftpd/config.hpp"
#include "ftpd/password.hpp"
#include "ftpd/server.hpp"
#include "terminal_input.hpp"

namespace {

using namespace muxio;
using namespace muxio::ftpd;

// Reads a password from the terminal without echo, or a line from stdin when it is not one.
std::string read_password(const std::string& prompt) {
  if (auto secret = muxio::apps::read_secret_from_terminal(prompt)) return *secret;
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int run_passwd(const std::string& file, const std::string& name, const std::string& perms) {
  auto p = parse_permissions(perms);
  if (!p) {
    std::cerr << "muxftpd passwd: unknown permission letters '" << perms << "'\n";
    return 2;
  }
  std::string password = read_password("Password for " + name + ": ");
  if (::isatty(STDIN_FILENO) && read_password("Again: ") != password) {
    std::cerr << "muxftpd passwd: the passwords differ\n";
    return 1;
  }
  if (password.empty()) {
    std::cerr << "muxftpd passwd: empty password refused\n";
    return 1;
  }
  if (auto ec = set_user_hash(file, name, hash_password(password), *p)) {
    std::cerr << "muxftpd passwd: " << file << ": " << ec.message() << "\n";
    return 1;
  }
  std::cerr << "muxftpd passwd: " << name << " saved in " << file << "\n";
  return 0;
}

std::string random_password() {
  static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string s(16, 'x');
  for (char& c : s)
    c = alphabet[randombytes_uniform(sizeof alphabet - 1)];
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (!init_password_hashing()) {
    std::cerr << "muxftpd: libsodium failed to initialise\n";
    return 1;
  }
  // Flags land in `flags`; the config file fills `cfg`; each flag given then overrides it.
  ServerConfig flags;
  CLI::App app{"muxftpd: an FTP server on muxio — many users at once, one process"};
  std::string config_file;
  std::vector<std::string> user_flags;
  std::string passive_ports;
  std::string demo_user;
  std::string anonymous_perms;
  std::int64_t idle = 0;
  std::int64_t data = 0;
  auto* o_config = app.add_option("--config", config_file, "TOML file (docs/muxftpd.example.toml)");
  auto* o_listen = app.add_option("--listen", flags.listen, "HOST:PORT, repeatable ([::1]:2121)");
  auto* o_root =
      app.add_option("--root", flags.root, "directory served (homes are relative to it)");
  app.add_option("--user", user_flags, "NAME:PASSWORD[:PERMS] account in memory (repeatable)");
  auto* o_users = app.add_option("--users-file", flags.users_file, "NAME:HASH:PERMS:HOME lines");
  app.add_option("--demo-user", demo_user, "add NAME with a random password, printed at start");
  auto* o_anon = app.add_flag("--anonymous", flags.anonymous, "allow anonymous logins (read-only)");
  app.add_option("--anonymous-permissions", anonymous_perms, "letters of lrwdnm (default lr)");
  app.add_option("--passive-ports", passive_ports, "LOW-HIGH range for PASV/EPSV");
  auto* o_io = app.add_option("--io", flags.io, "IO backend: " + backend_names_joined());
  auto* o_threads = app.add_option("--threads", flags.threads, "event loops (0: one per core)");
  auto* o_idle = app.add_option("--idle-timeout", idle, "seconds a client may idle (300)");
  auto* o_data = app.add_option("--data-timeout", data, "seconds for data set-up and stalls (30)");
  auto* o_xfer = app.add_option("--xferlog", flags.xferlog, "transfer log file ('-': stderr)");
  auto* o_level = app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error");
  std::string pw_file;
  std::string pw_name;
  std::string pw_perms = "all";
  auto* passwd = app.add_subcommand("passwd", "add a user to a users file or change a password");
  passwd->add_option("FILE", pw_file, "users file")->required();
  passwd->add_option("NAME", pw_name, "user name")->required();
  passwd->add_option("--permissions", pw_perms, "for a new user: letters of lrwdnm, ro or all");
  CLI11_PARSE(app, argc, argv);
  if (passwd->parsed()) return run_passwd(pw_file, pw_name, pw_perms);

  ServerConfig cfg;
  std::string error;
  if (o_config->count() > 0 && load_config_file(config_file, cfg, &error)) {
    std::cerr << "muxftpd: " << error << "\n";
    return 2;
  }
  if (o_listen->count() > 0) cfg.listen = flags.listen;
  if (o_root->count() > 0) cfg.root = flags.root;
  if (o_users->count() > 0) cfg.users_file = flags.users_file;
  if (o_anon->count() > 0) cfg.anonymous = flags.anonymous;
  if (o_io->count() > 0) cfg.io = flags.io;
  if (o_threads->count() > 0) cfg.threads = flags.threads;
  if (o_idle->count() > 0) cfg.idle_timeout = std::chrono::seconds(idle);
  if (o_data->count() > 0) cfg.data_timeout = std::chrono::seconds(data);
  if (o_xfer->count() > 0) cfg.xferlog = flags.xferlog;
  if (o_level->count() > 0) cfg.log_level = flags.log_level;
  if (!anonymous_perms.empty()) {
    auto p = parse_permissions(anonymous_perms);
    if (!p) {
      std::cerr << "muxftpd: --anonymous-permissions: unknown letters\n";
      return 2;
    }
    cfg.anonymous_permissions = *p;
  }
  if (!passive_ports.empty() &&
      !parse_port_range(passive_ports, cfg.passive_low, cfg.passive_high)) {
    std::cerr << "muxftpd: --passive-ports must be LOW-HIGH\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  ServerContext ctx;
  ctx.config = cfg;
  ctx.log = spdlog::stderr_color_mt("muxftpd");
  ctx.log->set_level(spdlog::level::from_str(cfg.log_level));
  if (!cfg.users_file.empty()) {
    auto db = UserDb::load_file(cfg.users_file, &error);
    if (!db) {
      std::cerr << "muxftpd: " << error << "\n";
      return 2;
    }
    ctx.users = std::move(*db);
  }
  for (const auto& f : user_flags) {
    auto u = UserDb::parse_user_flag(f);
    if (!u) {
      std::cerr << "muxftpd: --user " << f << ": expected NAME:PASSWORD[:PERMS]\n";
      return 2;
    }
    ctx.users.add(std::move(*u));
  }
  std::string demo_password;
  if (!demo_user.empty()) {
    demo_password = random_password();
    ctx.users.add(*UserDb::parse_user_flag(demo_user + ":" + demo_password));
  }
  if (ctx.users.size() == 0 && !cfg.anonymous) {
    std::cerr << "muxftpd: nobody can log in: give --user, --users-file, --demo-user or "
                 "--anonymous\n";
    return 2;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(cfg.root, ec)) {
    std::cerr << "muxftpd: --root " << cfg.root << " is not a directory\n";
    return 2;
  }
  if (!ctx.xferlog.open(cfg.xferlog)) {
    std::cerr << "muxftpd: cannot open transfer log " << cfg.xferlog << "\n";
    return 2;
  }
  Server server(ctx);
  if (server.start(&error)) {
    std::cerr << "muxftpd: " << error << "\n";
    return 1;
  }
  std::string where;
  for (const auto& a : server.addresses())
    where += (where.empty() ? "" : " ") + a.to_string();
  // Tests read this line (and the port in it) from standard output.
  std::cout << "muxftpd: listening on " << where << " (" << server.backend_name() << ", "
            << server.loop_count() << " loop(s)), root " << cfg.root << std::endl;
  if (!demo_password.empty()) {
    std::cout << "muxftpd: user " << demo_user << " password " << demo_password << std::endl;
  }
  server.run();
  ctx.log->info("stopped");
  return 0;
}
