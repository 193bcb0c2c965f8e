// What muxftp's subcommands and its shell share: the jobs a get or put makes, and where a rename
// goes.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include "ftpc/remote_commands.hpp"

using namespace muxio::ftpc;
namespace fs = std::filesystem;

TEST(RemoteCommands, ADownloadIsLabelledWithTheRemoteName) {
  Job j = download_job("/pub/dir/file.bin", "/tmp/out/x.bin");
  EXPECT_EQ(j.direction, JobKind::get);
  EXPECT_EQ(j.remote, "/pub/dir/file.bin");
  EXPECT_EQ(j.local, "/tmp/out/x.bin");
  EXPECT_EQ(j.label, "file.bin");
  EXPECT_FALSE(j.size.has_value());
}

TEST(RemoteCommands, AnUploadKnowsItsSizeAndLocalName) {
  fs::path dir = fs::temp_directory_path() / ("ftpc_remote_commands_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  { std::ofstream(dir / "notes.txt") << "twelve bytes"; }
  Job j = upload_job((dir / "notes.txt").string(), "/up/renamed.txt");
  EXPECT_EQ(j.direction, JobKind::put);
  EXPECT_EQ(j.label, "notes.txt");
  EXPECT_EQ(j.remote, "/up/renamed.txt");
  ASSERT_TRUE(j.size.has_value());
  EXPECT_EQ(*j.size, 12u);
  Job missing = upload_job((dir / "absent").string(), "/up/absent");
  EXPECT_FALSE(missing.size.has_value());
  fs::remove_all(dir);
}

TEST(RemoteCommands, ABareNewNameStaysInTheSameDirectory) {
  EXPECT_EQ(rename_target("/d/a.txt", "b.txt"), "/d/b.txt");
  EXPECT_EQ(rename_target("a.txt", "b.txt"), "b.txt");
  EXPECT_EQ(rename_target("/d/a.txt", "/e/b.txt"), "/e/b.txt");
  EXPECT_EQ(rename_target("/d/a.txt", "sub/b.txt"), "sub/b.txt");
}
