// User stores: the SQLite store and its migrations on temporary files, the users file as a
// store, and the conversion of database rows.
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ftpd/sqlite_user_store.hpp"
#include "ftpd/user_rows.hpp"
#include "ftpd/user_schema.hpp"
#include "ftpd/user_store.hpp"
#include "test_support.hpp"

namespace muxio::ftpd {
namespace {

namespace fs = std::filesystem;

// A fresh path in a directory of its own, removed with everything in it (WAL files too).
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("muxftpd-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

User make_user(const std::string& name) {
  User u;
  u.name = name;
  u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  u.permissions = kList | kRead;
  u.home = "homes/" + name;
  return u;
}

std::unique_ptr<UserStore> open_store(const std::string& spec) {
  std::string error;
  auto store = open_user_store(spec, {}, &error);
  EXPECT_NE(store, nullptr) << error;
  return store;
}

// Runs SQL on an SQLite file directly, as an older muxftpd or an operator would.
void run_sqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  EXPECT_EQ(rc, SQLITE_OK) << (message != nullptr ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

TEST(UserStoreSpec, SelectsTheEngine) {
  std::string error;
  EXPECT_NE(open_user_store("file:/x", {}, &error), nullptr);
  EXPECT_NE(open_user_store("sqlite:/x.db", {}, &error), nullptr);
  EXPECT_NE(open_user_store("postgresql:host=/tmp dbname=x", {}, &error), nullptr);
  EXPECT_NE(open_user_store("postgresql://u@localhost/x", {}, &error), nullptr);
  EXPECT_EQ(open_user_store("mysql:x", {}, &error), nullptr);
  EXPECT_NE(error.find("expected"), std::string::npos) << error;
  EXPECT_EQ(open_user_store("sqlite:", {}, &error), nullptr);
  EXPECT_TRUE(is_users_file_spec("file:/etc/muxftpd.users"));
  EXPECT_EQ(users_file_of_spec("file:/etc/muxftpd.users"), "/etc/muxftpd.users");
  EXPECT_FALSE(is_users_file_spec("sqlite:/x"));
}

TEST(UserRows, RoundTripWithAndWithoutOverrides) {
  User u = make_user("carol");
  u.limits.quota_bytes = 1024;
  u.limits.max_sessions = 0;  // present and 0: no limit for this user
  std::string error;
  auto back = user_from_row(user_to_row(u), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->name, "carol");
  EXPECT_EQ(back->home, "homes/carol");
  EXPECT_EQ(back->permissions, kList | kRead);
  EXPECT_EQ(back->limits.quota_bytes, 1024u);
  EXPECT_EQ(back->limits.max_sessions, 0u);
  EXPECT_FALSE(back->limits.download_rate.has_value()) << "NULL: the server's setting";
  EXPECT_FALSE(back->limits.quota_files.has_value());
}

TEST(UserRows, RefusesRowsItCannotUse) {
  std::string error;
  SqlRow row = user_to_row(make_user("dave"));
  row[2] = "lrx";
  EXPECT_FALSE(user_from_row(row, &error));
  EXPECT_NE(error.find("permission"), std::string::npos) << error;
  row = user_to_row(make_user("dave"));
  row[8] = "12abc";
  EXPECT_FALSE(user_from_row(row, &error));
  row.pop_back();
  EXPECT_FALSE(user_from_row(row, &error));
}

TEST(UserLimits, OverridesReplaceOnlyWhatTheyName) {
  UserLimits l;
  l.quota_files = 3;
  l.upload_rate = 0;
  QuotaLimits q = l.quota({1000, 50});
  EXPECT_EQ(q.bytes, 1000u);
  EXPECT_EQ(q.files, 3u);
  BandwidthLimits b = l.bandwidth({10, 20, 30, 40});
  EXPECT_EQ(b.session_download, 10u);
  EXPECT_EQ(b.session_upload, 0u);
  EXPECT_EQ(b.user_download, 30u);
  EXPECT_EQ(b.user_upload, 40u);
}

TEST(SqliteUserStore, InitPutFindListRemove) {
  TempDir dir;
  auto store = open_store("sqlite:" + dir.file("users.db"));
  std::string error;
  ASSERT_FALSE(store->init_schema(&error)) << error;
  auto version = store->schema_version(&error);
  ASSERT_TRUE(version) << error;
  EXPECT_EQ(*version, latest_user_schema_version());

  EXPECT_EQ(store->find("erin").status, UserStore::Lookup::Status::not_found);
  User u = make_user("erin");
  u.limits.quota_bytes = 200 * 1024;
  u.limits.user_upload_rate = 5000;
  ASSERT_FALSE(store->put(u, &error)) << error;
  ASSERT_FALSE(store->put(make_user("abe"), &error)) << error;

  auto found = store->find("erin");
  ASSERT_EQ(found.status, UserStore::Lookup::Status::found) << found.error;
  EXPECT_EQ(found.user.password_hash, u.password_hash);
  EXPECT_EQ(found.user.home, "homes/erin");
  EXPECT_EQ(found.user.limits.quota_bytes, 200u * 1024);
  EXPECT_EQ(found.user.limits.user_upload_rate, 5000u);
  EXPECT_FALSE(found.user.limits.max_sessions.has_value());

  u.password_hash = "changed";
  u.limits.quota_bytes.reset();
  ASSERT_FALSE(store->put(u, &error)) << error;
  found = store->find("erin");
  EXPECT_EQ(found.user.password_hash, "changed");
  EXPECT_FALSE(found.user.limits.quota_bytes.has_value()) << "put replaces every column";

  auto users = store->list(&error);
  ASSERT_TRUE(users) << error;
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name, "abe");
  EXPECT_EQ((*users)[1].name, "erin");

  EXPECT_FALSE(store->remove("erin", &error));
  EXPECT_EQ(store->find("erin").status, UserStore::Lookup::Status::not_found);
  EXPECT_EQ(store->remove("erin", &error), std::errc::no_such_file_or_directory);
}

TEST(SqliteUserStore, ChangesFromAnotherConnectionAreSeen) {
  TempDir dir;
  const std::string spec = "sqlite:" + dir.file("users.db");
  auto server = open_store(spec);
  auto admin = open_store(spec);
  std::string error;
  ASSERT_FALSE(admin->init_schema(&error)) << error;
  EXPECT_EQ(server->find("fay").status, UserStore::Lookup::Status::not_found);
  ASSERT_FALSE(admin->put(make_user("fay"), &error)) << error;
  EXPECT_EQ(server->find("fay").status, UserStore::Lookup::Status::found);
}

TEST(SqliteUserStore, InitTwiceIsRefused) {
  TempDir dir;
  auto store = open_store("sqlite:" + dir.file("users.db"));
  std::string error;
  ASSERT_FALSE(store->init_schema(&error)) << error;
  EXPECT_EQ(store->init_schema(&error), std::errc::file_exists);
  EXPECT_NE(error.find("db migrate"), std::string::npos) << error;
  EXPECT_FALSE(store->migrate_schema(&error)) << "nothing to do is no error: " << error;
}

TEST(SqliteUserStore, MissingDatabaseIsUnavailableAndNotCreated) {
  TempDir dir;
  const std::string path = dir.file("absent.db");
  auto store = open_store("sqlite:" + path);
  auto lookup = store->find("gus");
  EXPECT_EQ(lookup.status, UserStore::Lookup::Status::unavailable);
  EXPECT_FALSE(lookup.error.empty());
  EXPECT_FALSE(fs::exists(path)) << "only db init creates the file";
}

TEST(SqliteUserStore, UninitialisedDatabaseIsUnavailable) {
  TempDir dir;
  const std::string path = dir.file("empty.db");
  run_sqlite(path, "CREATE TABLE unrelated (x INTEGER)");
  auto store = open_store("sqlite:" + path);
  std::string error;
  auto version = store->schema_version(&error);
  ASSERT_TRUE(version) << error;
  EXPECT_EQ(*version, 0);
  EXPECT_EQ(store->find("gus").status, UserStore::Lookup::Status::unavailable);
}

TEST(SqliteUserStore, MigratesVersionOneKeepingItsUsers) {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  // The database as version 1 left it, with a user in it.
  auto first = user_schema_migrations().front();
  ASSERT_EQ(first.version, 1);
  run_sqlite(path, std::string(first.sql) +
                       ";UPDATE schema_version SET version = 1;"
                       "INSERT INTO users (name, password_hash, permissions, home) "
                       "VALUES ('hal', 'h', 'lrw', 'h')");
  auto store = open_store("sqlite:" + path);
  std::string error;
  EXPECT_EQ(*store->schema_version(&error), 1);
  EXPECT_EQ(store->find("hal").status, UserStore::Lookup::Status::unavailable)
      << "version 1 has no limit columns: the server must not half-read it";
  ASSERT_FALSE(store->migrate_schema(&error)) << error;
  EXPECT_EQ(*store->schema_version(&error), latest_user_schema_version());
  auto found = store->find("hal");
  ASSERT_EQ(found.status, UserStore::Lookup::Status::found) << found.error;
  EXPECT_EQ(found.user.permissions, kList | kRead | kWrite);
  EXPECT_FALSE(found.user.limits.quota_bytes.has_value());
}

TEST(SqliteUserStore, RefusesASchemaNewerThanItKnows) {
  TempDir dir;
  const std::string path = dir.file("future.db");
  auto store = open_store("sqlite:" + path);
  std::string error;
  ASSERT_FALSE(store->init_schema(&error)) << error;
  run_sqlite(path, "UPDATE schema_version SET version = 999");
  EXPECT_EQ(store->migrate_schema(&error), std::errc::invalid_argument);
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
}

TEST(SqliteUserStore, FailedMigrationLeavesTheVersion) {
  TempDir dir;
  const std::string path = dir.file("broken.db");
  auto first = user_schema_migrations().front();
  // Version 1, but with a column version 2 adds already there: its ALTER fails.
  run_sqlite(path, std::string(first.sql) +
                       ";UPDATE schema_version SET version = 1;"
                       "ALTER TABLE users ADD COLUMN quota_files BIGINT");
  auto store = open_store("sqlite:" + path);
  std::string error;
  EXPECT_TRUE(store->migrate_schema(&error));
  EXPECT_NE(error.find("version 2"), std::string::npos) << error;
  EXPECT_EQ(*store->schema_version(&error), 1) << "rolled back as a whole";
}

TEST(UsersFileStore, AddChangeDeleteKeepsOtherLines) {
  TempDir dir;
  const std::string path = dir.file("users");
  {
    std::ofstream out(path);
    out << "# comment kept\nzed:h:lr:\n";
  }
  auto store = open_store("file:" + path);
  std::string error;
  User u = make_user("ivy");
  ASSERT_FALSE(store->put(u, &error)) << error;
  auto found = store->find("ivy");
  ASSERT_EQ(found.status, UserStore::Lookup::Status::found);
  EXPECT_EQ(found.user.home, "homes/ivy");
  auto users = store->list(&error);
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name, "ivy");
  ASSERT_FALSE(store->remove("ivy", &error)) << error;
  EXPECT_EQ(store->remove("ivy", &error), std::errc::no_such_file_or_directory);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "# comment kept\nzed:h:lr:\n");
}

TEST(UsersFileStore, RefusesPerUserLimitsItCannotKeep) {
  TempDir dir;
  auto store = open_store("file:" + dir.file("users"));
  User u = make_user("jo");
  u.limits.quota_files = 1;
  std::string error;
  EXPECT_EQ(store->put(u, &error), std::errc::invalid_argument);
  EXPECT_NE(error.find("database store"), std::string::npos) << error;
  std::string ignored;
  EXPECT_EQ(store->init_schema(&ignored), std::errc::not_supported);
}

}  // namespace
}  // namespace muxio::ftpd
