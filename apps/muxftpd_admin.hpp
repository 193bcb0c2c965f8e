// muxftpd's administration subcommands, which run and exit without serving:
//   muxftpd passwd FILE NAME                 add a user to a users file or change a password
//   muxftpd user add|del|passwd|list ...     accounts in any user store (--store SPEC)
//   muxftpd db init|migrate                  a database store's schema
// SPEC is file:PATH, sqlite:PATH or postgresql:CONNINFO (src/ftpd/user_store.hpp); without
// --store, the user_store (or users_file) of --config.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace muxio::apps {

class AdminCommands {
 public:
  // Adds the subcommands to app.
  explicit AdminCommands(CLI::App& app);

  // After parsing: whether one of them was given.
  bool parsed() const;
  // Runs the one given; returns the exit status. configured_store: the store the config file
  // names ("" when none).
  int run(const std::string& configured_store);

 private:
  int run_passwd_file();
  int run_user(const std::string& spec);
  int run_db(const std::string& spec);

  CLI::App* passwd_ = nullptr;
  CLI::App* user_ = nullptr;
  CLI::App* user_add_ = nullptr;
  CLI::App* user_del_ = nullptr;
  CLI::App* user_passwd_ = nullptr;
  CLI::App* user_list_ = nullptr;
  CLI::App* db_ = nullptr;
  CLI::App* db_init_ = nullptr;
  CLI::App* db_migrate_ = nullptr;

  std::string store_;
  std::string file_;
  std::string name_;
  std::string permissions_ = "all";
  std::string home_;
  // Per-user limits for `user add`, as given (empty: the server's setting).
  std::string download_rate_, upload_rate_, user_download_rate_, user_upload_rate_;
  std::string quota_bytes_, quota_files_, max_sessions_;
};

}  // namespace muxio::apps
