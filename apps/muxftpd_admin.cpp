#include "muxftpd_admin.hpp"

#include <unistd.h>

#include <charconv>
#include <iostream>

#include "ftpd/bandwidth.hpp"
#include "ftpd/password.hpp"
#include "ftpd/user_schema.hpp"
#include "ftpd/user_store.hpp"
#include "terminal_input.hpp"

namespace muxio::apps {

using namespace muxio::ftpd;

namespace {

// Reads a password from the terminal without echo, or a line from stdin when it is not one.
std::string read_password(const std::string& prompt) {
  if (auto secret = read_secret_from_terminal(prompt)) return *secret;
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// A new password, twice on a terminal; empty when refused (the reason printed).
std::string read_new_password(const std::string& who, const std::string& name) {
  std::string password = read_password("Password for " + name + ": ");
  if (::isatty(STDIN_FILENO) && read_password("Again: ") != password) {
    std::cerr << who << ": the passwords differ\n";
    return {};
  }
  if (password.empty()) std::cerr << who << ": empty password refused\n";
  return password;
}

std::optional<std::uint64_t> parse_count(const std::string& text) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// One limit flag into its field: rates and byte quotas take K/M/G, counts do not.
bool set_limit(const std::string& flag, const std::string& text, bool bytes,
               std::optional<std::uint64_t>& field) {
  if (text.empty()) return true;
  field = bytes ? parse_bytes(text) : parse_count(text);
  if (!field) std::cerr << "muxftpd user add: " << flag << ": not a number: '" << text << "'\n";
  return field.has_value();
}

std::string show(const std::optional<std::uint64_t>& v) {
  return v ? std::to_string(*v) : "-";
}

}  // namespace

AdminCommands::AdminCommands(CLI::App& app) {
  passwd_ = app.add_subcommand("passwd", "add a user to a users file or change a password");
  passwd_->add_option("FILE", file_, "users file")->required();
  passwd_->add_option("NAME", name_, "user name")->required();
  passwd_->add_option("--permissions", permissions_,
                      "for a new user: letters of lrwdnm, ro or all");

  user_ = app.add_subcommand("user", "accounts in a user store (file:, sqlite:, postgresql:)");
  user_->require_subcommand(1);
  user_->fallthrough();  // --store after the subcommand's name too
  user_->add_option("--store", store_, "file:PATH | sqlite:PATH | postgresql:CONNINFO");
  user_add_ = user_->add_subcommand("add", "add a user (password from the terminal or stdin)");
  user_add_->add_option("NAME", name_, "user name")->required();
  user_add_->add_option("--permissions", permissions_, "letters of lrwdnm, ro or all (all)");
  user_add_->add_option("--home", home_, "root of the user, absolute or under --root");
  user_add_->add_option("--download-rate", download_rate_, "bytes/s per session (e.g. 1M)");
  user_add_->add_option("--upload-rate", upload_rate_, "bytes/s per session");
  user_add_->add_option("--user-download-rate", user_download_rate_, "bytes/s of all sessions");
  user_add_->add_option("--user-upload-rate", user_upload_rate_, "bytes/s of all sessions");
  user_add_->add_option("--quota-bytes", quota_bytes_, "bytes under the home (e.g. 500M)");
  user_add_->add_option("--quota-files", quota_files_, "files under the home");
  user_add_->add_option("--max-sessions", max_sessions_, "logged-in sessions at once");
  user_del_ = user_->add_subcommand("del", "delete a user");
  user_del_->add_option("NAME", name_, "user name")->required();
  user_passwd_ = user_->add_subcommand("passwd", "change a user's password");
  user_passwd_->add_option("NAME", name_, "user name")->required();
  user_list_ = user_->add_subcommand("list", "list the users (no password hashes)");

  db_ = app.add_subcommand("db", "a database user store's schema");
  db_->require_subcommand(1);
  db_->fallthrough();
  db_->add_option("--store", store_, "sqlite:PATH | postgresql:CONNINFO");
  db_init_ = db_->add_subcommand("init", "create the schema in an empty database");
  db_migrate_ = db_->add_subcommand("migrate", "bring the schema to this muxftpd's version");
}

bool AdminCommands::parsed() const {
  return passwd_->parsed() || user_->parsed() || db_->parsed();
}

int AdminCommands::run(const std::string& configured_store) {
  if (passwd_->parsed()) return run_passwd_file();
  const std::string spec = store_.empty() ? configured_store : store_;
  if (spec.empty()) {
    std::cerr << "muxftpd: which store? give --store SPEC (or --config with user_store)\n";
    return 2;
  }
  return user_->parsed() ? run_user(spec) : run_db(spec);
}

int AdminCommands::run_passwd_file() {
  auto p = parse_permissions(permissions_);
  if (!p) {
    std::cerr << "muxftpd passwd: unknown permission letters '" << permissions_ << "'\n";
    return 2;
  }
  std::string password = read_new_password("muxftpd passwd", name_);
  if (password.empty()) return 1;
  if (auto ec = set_user_hash(file_, name_, hash_password(password), *p)) {
    std::cerr << "muxftpd passwd: " << file_ << ": " << ec.message() << "\n";
    return 1;
  }
  std::cerr << "muxftpd passwd: " << name_ << " saved in " << file_ << "\n";
  return 0;
}

int AdminCommands::run_user(const std::string& spec) {
  std::string error;
  auto store = open_user_store(spec, {}, &error);
  if (!store) {
    std::cerr << "muxftpd user: " << error << "\n";
    return 2;
  }
  if (user_list_->parsed()) {
    auto users = store->list(&error);
    if (!users) {
      std::cerr << "muxftpd user list: " << error << "\n";
      return 1;
    }
    std::cout << "# name permissions home download_rate upload_rate user_download_rate "
                 "user_upload_rate quota_bytes quota_files max_sessions (-: the server's)\n";
    for (const auto& u : *users) {
      const UserLimits& l = u.limits;
      std::cout << u.name << "\t" << permissions_to_string(u.permissions) << "\t"
                << (u.home.empty() ? "/" : u.home) << "\t" << show(l.download_rate) << "\t"
                << show(l.upload_rate) << "\t" << show(l.user_download_rate) << "\t"
                << show(l.user_upload_rate) << "\t" << show(l.quota_bytes) << "\t"
                << show(l.quota_files) << "\t" << show(l.max_sessions) << "\n";
    }
    return 0;
  }
  if (user_del_->parsed()) {
    auto ec = store->remove(name_, &error);
    if (ec) {
      std::cerr << "muxftpd user del: "
                << (ec == std::errc::no_such_file_or_directory ? "no user " + name_ : error)
                << "\n";
      return 1;
    }
    std::cerr << "muxftpd user del: " << name_ << " deleted\n";
    return 0;
  }
  auto existing = store->find(name_);
  if (existing.status == UserStore::Lookup::Status::unavailable) {
    std::cerr << "muxftpd user: " << existing.error << "\n";
    return 1;
  }
  const bool found = existing.status == UserStore::Lookup::Status::found;
  User user;
  if (user_passwd_->parsed()) {
    if (!found) {
      std::cerr << "muxftpd user passwd: no user " << name_ << " (`muxftpd user add` first)\n";
      return 1;
    }
    user = existing.user;
  } else {  // add
    if (found) {
      std::cerr << "muxftpd user add: " << name_ << " exists (`muxftpd user passwd` changes "
                << "the password)\n";
      return 1;
    }
    auto p = parse_permissions(permissions_);
    if (!p) {
      std::cerr << "muxftpd user add: unknown permission letters '" << permissions_ << "'\n";
      return 2;
    }
    user.name = name_;
    user.permissions = *p;
    user.home = home_;
    UserLimits& l = user.limits;
    if (!set_limit("--download-rate", download_rate_, true, l.download_rate) ||
        !set_limit("--upload-rate", upload_rate_, true, l.upload_rate) ||
        !set_limit("--user-download-rate", user_download_rate_, true, l.user_download_rate) ||
        !set_limit("--user-upload-rate", user_upload_rate_, true, l.user_upload_rate) ||
        !set_limit("--quota-bytes", quota_bytes_, true, l.quota_bytes) ||
        !set_limit("--quota-files", quota_files_, false, l.quota_files) ||
        !set_limit("--max-sessions", max_sessions_, false, l.max_sessions)) {
      return 2;
    }
  }
  std::string password = read_new_password("muxftpd user", name_);
  if (password.empty()) return 1;
  user.password_hash = hash_password(password);
  if (store->put(user, &error)) {
    std::cerr << "muxftpd user: " << error << "\n";
    return 1;
  }
  std::cerr << "muxftpd user: " << name_ << " saved\n";
  return 0;
}

int AdminCommands::run_db(const std::string& spec) {
  std::string error;
  auto store = open_user_store(spec, {}, &error);
  if (!store) {
    std::cerr << "muxftpd db: " << error << "\n";
    return 2;
  }
  const char* what = db_init_->parsed() ? "init" : "migrate";
  auto ec = db_init_->parsed() ? store->init_schema(&error) : store->migrate_schema(&error);
  if (ec) {
    std::cerr << "muxftpd db " << what << ": " << error << "\n";
    return 1;
  }
  std::cerr << "muxftpd db " << what << ": schema at version " << latest_user_schema_version()
            << "\n";
  return 0;
}

}  // namespace muxio::apps
