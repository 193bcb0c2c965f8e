// Users, passwords, permissions and configuration of muxftpd.
#include <crypt.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "ftpd/config.hpp"
#include "ftpd/password.hpp"
#include "ftpd/user_db.hpp"
#include "test_support.hpp"

namespace muxio::ftpd {
namespace {

namespace fs = std::filesystem;

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("muxftpd-" + std::to_string(::getpid()) + "-" + name);
}

TEST(Permissions, LettersRoundTrip) {
  EXPECT_EQ(parse_permissions("ro"), kReadOnly);
  EXPECT_EQ(parse_permissions("all"), kAllPermissions);
  EXPECT_EQ(parse_permissions("lrw"), kList | kRead | kWrite);
  EXPECT_FALSE(parse_permissions("lrx").has_value());
  EXPECT_EQ(permissions_to_string(kAllPermissions), "lrwdnm");
  EXPECT_EQ(parse_permissions(""), Permissions{0});
}

TEST(Password, Argon2idHashVerifies) {
  ASSERT_TRUE(init_password_hashing());
  std::string hash = hash_password("correct horse");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_TRUE(verify_password("correct horse", hash));
  EXPECT_FALSE(verify_password("correct hors", hash));
  EXPECT_NE(hash_password("correct horse"), hash) << "salted";
}

TEST(Password, CryptHashesFromOtherServersVerify) {
  crypt_data data{};
  for (const char* prefix : {"$6$saltsalt$", "$5$saltsalt$"}) {
    const char* h = crypt_r("migrate me", prefix, &data);
    ASSERT_NE(h, nullptr);
    std::string hash = h;
    EXPECT_TRUE(verify_password("migrate me", hash)) << prefix;
    EXPECT_FALSE(verify_password("migrate m3", hash)) << prefix;
  }
  EXPECT_FALSE(verify_password("x", "plaintext")) << "never compare against plain text";
  EXPECT_FALSE(verify_password("x", "")) << "an empty hash matches nothing";
  EXPECT_FALSE(verify_password(std::string("a\0b", 3), "$6$saltsalt$whatever"));
}

TEST(Password, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secrets"));
}

TEST(UserDb, ParsesLinesAndFlags) {
  auto u = parse_users_line("alice:$argon2id$v=19$m=1,t=1,p=1$x$y:lr:/srv/alice");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->permissions, kReadOnly);
  EXPECT_EQ(u->home, "/srv/alice");
  EXPECT_FALSE(parse_users_line("bob::lr:").has_value()) << "empty hash";
  EXPECT_FALSE(parse_users_line("bob:$6$x:zz:").has_value()) << "bad permissions";
  EXPECT_FALSE(parse_users_line("b o b:$6$x:lr:").has_value()) << "space in name";
  EXPECT_FALSE(parse_users_line("bob:$6$x").has_value());

  auto f = UserDb::parse_user_flag("carol:pw:ro");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->plain_password, "pw");
  EXPECT_EQ(f->permissions, kReadOnly);
  EXPECT_EQ(UserDb::parse_user_flag("dave:pw")->permissions, kAllPermissions);
  EXPECT_FALSE(UserDb::parse_user_flag("eve").has_value());
  EXPECT_FALSE(UserDb::parse_user_flag("eve:").has_value());
}

TEST(UserDb, SetUserHashAddsAndChangesKeepingOtherLines) {
  auto path = temp_file("users").string();
  {
    std::ofstream out(path);
    out << "# comment stays\nalice:$6$old:lr:home\n";
  }
  ASSERT_FALSE(set_user_hash(path, "alice", "$6$new", kAllPermissions));
  ASSERT_FALSE(set_user_hash(path, "bob", "$6$bob", kReadOnly));
  std::string error;
  auto db = UserDb::load_file(path, &error);
  ASSERT_TRUE(db.ok()) << error;
  EXPECT_EQ(db->size(), 2u);
  EXPECT_EQ(db->find("alice")->password_hash, "$6$new");
  EXPECT_EQ(db->find("alice")->permissions, kReadOnly) << "existing permissions kept";
  EXPECT_EQ(db->find("alice")->home, "home");
  EXPECT_EQ(db->find("bob")->permissions, kReadOnly);
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "# comment stays");
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::others_read, fs::perms::none);
  fs::remove(path);
}

TEST(UserDb, EditFailsWhereTheFileCannotBeWritten) {
  auto dir = temp_file("no-such-dir");
  fs::remove_all(dir);
  EXPECT_TRUE(set_user_hash((dir / "users").string(), "alice", "$6$x", kAllPermissions));
  EXPECT_FALSE(fs::exists(dir));
}

// A short write (here: the file size limit; a full disk does the same) sets no errno. The edit
// must fail and leave the old file whole, not report success.
TEST(UserDb, AShortWriteIsAnError) {
  auto path = temp_file("users-short").string();
  {
    std::ofstream out(path);
    out << "alice:$6$old:lr\n";
  }
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // the write past the limit fails (EFBIG) instead of killing us
    rlimit limit{64, 64};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    errno = 0;
    auto ec = set_user_hash(path, "bob", "$6$" + std::string(200, 'b'), kAllPermissions);
    ::_exit(ec ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "a short write was reported as success";
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "alice:$6$old:lr\n");
  // No temporary left behind.
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path())) {
    EXPECT_NE(e.path().filename().string().rfind(fs::path(path).filename().string() + ".", 0), 0u)
        << e.path();
  }
  fs::remove(path);
}

// Two `muxftpd user add` at once: each change lands, none overwrites the other's.
TEST(UserDb, ConcurrentEditsKeepEveryUser) {
  auto path = temp_file("users-concurrent").string();
  fs::remove(path);
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  auto adder = [&](char who) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string name = std::string(1, who) + std::to_string(i);
      if (set_user_hash(path, name, "$6$" + name, kAllPermissions)) ++failures;
    }
  };
  std::thread a(adder, 'a');
  std::thread b(adder, 'b');
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  std::string error;
  auto db = UserDb::load_file(path, &error);
  ASSERT_TRUE(db.ok()) << error;
  EXPECT_EQ(db->size(), 2u * kPerThread);
  for (int i = 0; i < kPerThread; ++i) {
    EXPECT_NE(db->find("a" + std::to_string(i)), nullptr) << i;
    EXPECT_NE(db->find("b" + std::to_string(i)), nullptr) << i;
  }
  fs::remove(path);
}

TEST(UserDb, MalformedFileNamesTheLine) {
  auto path = temp_file("bad-users").string();
  {
    std::ofstream out(path);
    out << "alice:$6$x:lr:\n\nbroken line\n";
  }
  std::string error;
  auto db = UserDb::load_file(path, &error);
  EXPECT_FALSE(db.ok());
  EXPECT_NE(error.find(":3:"), std::string::npos) << error;
  fs::remove(path);
}

TEST(Config, TomlFileOverridesDefaults) {
  auto path = temp_file("config.toml").string();
  {
    std::ofstream out(path);
    out << "listen = [\"127.0.0.1:2121\", \"[::1]:2121\"]\nroot = \"/srv/ftp\"\n"
           "passive_ports = \"50000-50010\"\nthreads = 3\nidle_timeout = 42\n"
           "anonymous = true\nanonymous_permissions = \"lrw\"\nio = \"poll\"\n";
  }
  ServerConfig cfg;
  std::string error;
  ASSERT_FALSE(load_config_file(path, cfg, &error)) << error;
  EXPECT_EQ(cfg.listen.size(), 2u);
  EXPECT_EQ(cfg.root, "/srv/ftp");
  EXPECT_EQ(cfg.passive_low, 50000);
  EXPECT_EQ(cfg.passive_high, 50010);
  EXPECT_EQ(cfg.threads, 3u);
  EXPECT_EQ(cfg.idle_timeout.count(), 42);
  EXPECT_TRUE(cfg.anonymous);
  EXPECT_EQ(cfg.anonymous_permissions, kList | kRead | kWrite);
  EXPECT_EQ(cfg.io, "poll");
  EXPECT_EQ(cfg.data_timeout.count(), 30) << "absent keys keep their defaults";
  fs::remove(path);
}

TEST(Config, ErrorsAreReported) {
  auto path = temp_file("bad.toml").string();
  {
    std::ofstream out(path);
    out << "passive_ports = \"60000-50000\"\n";
  }
  ServerConfig cfg;
  std::string error;
  EXPECT_TRUE(load_config_file(path, cfg, &error));
  EXPECT_NE(error.find("passive_ports"), std::string::npos);
  {
    std::ofstream out(path);
    out << "this is = = not toml\n";
  }
  EXPECT_TRUE(load_config_file(path, cfg, &error));
  fs::remove(path);
}

TEST(Config, PortRange) {
  std::uint16_t lo = 0;
  std::uint16_t hi = 0;
  EXPECT_TRUE(parse_port_range("1024-2048", lo, hi));
  EXPECT_EQ(lo, 1024);
  EXPECT_EQ(hi, 2048);
  EXPECT_FALSE(parse_port_range("2048-1024", lo, hi));
  EXPECT_FALSE(parse_port_range("0-10", lo, hi));
  EXPECT_FALSE(parse_port_range("10-70000", lo, hi));
  EXPECT_FALSE(parse_port_range("10", lo, hi));
  EXPECT_FALSE(parse_port_range("a-b", lo, hi));
}

}  // namespace
}  // namespace muxio::ftpd
