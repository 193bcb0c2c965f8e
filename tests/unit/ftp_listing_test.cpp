#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "ftp/listing.hpp"

namespace muxio::ftp {
namespace {

constexpr std::int64_t kNow = 1795437296;         // 2026-11-23 12:34:56 UTC
constexpr std::int64_t kNov23_1234 = 1795437240;  // 2026-11-23 12:34:00 UTC
constexpr std::int64_t kNov23_2025 = 1763901240;  // 2025-11-23 12:34:00 UTC
constexpr std::int64_t kMay1_2026 = 1777593600;   // 2026-05-01 00:00:00 UTC

FileFacts dir_facts() {
  return {"name", FileType::dir, 4096, kNov23_1234, 0755, 2, "ftp", "ftp", "801g1a"};
}

FileFacts file_facts() {
  return {"report.pdf", FileType::file, 1234, kNov23_1234, 0644, 1, "alice", "staff", "801g1b"};
}

TEST(FtpListLine, DirectoryInLsForm) {
  EXPECT_EQ(format_list_line(dir_facts(), kNow),
            "drwxr-xr-x    2 ftp      ftp          4096 Nov 23 12:34 name");
}

TEST(FtpListLine, OldFileShowsTheYear) {
  FileFacts f = file_facts();
  f.mtime = kNov23_2025;
  EXPECT_EQ(format_list_line(f, kNow),
            "-rw-r--r--    1 alice    staff        1234 Nov 23  2025 report.pdf");
}

TEST(FtpListLine, SingleDigitDayIsSpacePadded) {
  FileFacts f = file_facts();
  f.mtime = kMay1_2026;  // more than six months before kNow
  EXPECT_EQ(format_list_line(f, kNow),
            "-rw-r--r--    1 alice    staff        1234 May  1  2026 report.pdf");
  EXPECT_EQ(format_list_line(f, kMay1_2026 + 60),
            "-rw-r--r--    1 alice    staff        1234 May  1 00:00 report.pdf");
}

TEST(FtpListLine, SixMonthBoundary) {
  FileFacts f = file_facts();
  f.mtime = kNow - kRecentPast + 1;
  EXPECT_NE(format_list_line(f, kNow).find(':'), std::string::npos);
  f.mtime = kNow - kRecentPast;
  EXPECT_EQ(format_list_line(f, kNow).find(':'), std::string::npos);
}

TEST(FtpListLine, FutureBoundary) {
  FileFacts f = file_facts();
  f.mtime = kNow + 3600;  // 13:34:56
  EXPECT_EQ(format_list_line(f, kNow),
            "-rw-r--r--    1 alice    staff        1234 Nov 23 13:34 report.pdf");
  f.mtime = kNow + 3601;
  EXPECT_EQ(format_list_line(f, kNow),
            "-rw-r--r--    1 alice    staff        1234 Nov 23  2026 report.pdf");
}

TEST(FtpListLine, WideColumnsGrowInsteadOfTruncating) {
  FileFacts f = file_facts();
  f.owner = "averylongowner";
  f.group = "group1234";
  f.size = 12345678901ULL;
  f.nlink = 123456;
  EXPECT_EQ(format_list_line(f, kNow),
            "-rw-r--r-- 123456 averylongowner group1234 12345678901 Nov 23 12:34 report.pdf");
}

TEST(FtpListLine, PermissionBits) {
  FileFacts f = file_facts();
  auto perms = [&](std::uint32_t mode) {
    f.mode = mode;
    return format_list_line(f, kNow).substr(0, 10);
  };
  EXPECT_EQ(perms(0), "----------");
  EXPECT_EQ(perms(0777), "-rwxrwxrwx");
  EXPECT_EQ(perms(04755), "-rwsr-xr-x");
  EXPECT_EQ(perms(04644), "-rwSr--r--");
  EXPECT_EQ(perms(02750), "-rwxr-s---");
  EXPECT_EQ(perms(02740), "-rwxr-S---");
  EXPECT_EQ(perms(01777), "-rwxrwxrwt");
  EXPECT_EQ(perms(01770), "-rwxrwx--T");
  EXPECT_EQ(perms(S_IFREG | 0600), "-rw-------");  // file-type bits in mode are harmless
}

TEST(FtpListLine, TypeCharacters) {
  FileFacts f = file_facts();
  f.mode = 0777;
  f.type = FileType::link;
  EXPECT_EQ(format_list_line(f, kNow)[0], 'l');
  f.type = FileType::other;
  EXPECT_EQ(format_list_line(f, kNow)[0], '-');
  f.mode = S_IFIFO | 0644;
  EXPECT_EQ(format_list_line(f, kNow).substr(0, 10), "prw-r--r--");
  f.mode = S_IFSOCK | 0755;
  EXPECT_EQ(format_list_line(f, kNow)[0], 's');
  f.mode = S_IFCHR | 0666;
  EXPECT_EQ(format_list_line(f, kNow)[0], 'c');
  f.mode = S_IFBLK | 0660;
  EXPECT_EQ(format_list_line(f, kNow)[0], 'b');
}

TEST(FtpListLine, NamesKeepSpacesButNeverLineBreaks) {
  FileFacts f = file_facts();
  f.name = "my file .txt";
  EXPECT_EQ(format_list_line(f, kNow),
            "-rw-r--r--    1 alice    staff        1234 Nov 23 12:34 my file .txt");
  f.name = std::string("a\r\n226 b\0c", 10);
  EXPECT_EQ(format_list_line(f, kNow),
            "-rw-r--r--    1 alice    staff        1234 Nov 23 12:34 a??226 b?c");
}

TEST(FtpListLine, ControlCharactersCannotReachATerminal) {
  FileFacts f = file_facts();
  f.name = "[2J]0;ownedx	z Ã©";
  EXPECT_EQ(format_list_line(f, kNow),
            "-rw-r--r--    1 alice    staff        1234 Nov 23 12:34 ?[2J?]0;owned?x??z Ã©");
  // NLST and MLSD keep names exact but for line breaks: clients fetch files by them.
  EXPECT_EQ(safe_name("[2J	ok"), "[2J	ok");
}

TEST(FtpListLine, OwnerAndGroupAreSingleColumns) {
  FileFacts f = file_facts();
  f.owner = "";
  f.group = "domain users\n";
  EXPECT_EQ(format_list_line(f, kNow),
            "-rw-r--r--    1 ftp      domain_users_     1234 Nov 23 12:34 report.pdf");
}

TEST(FtpListLine, ExtremeTimesDoNotBreakTheFormat) {
  FileFacts f = file_facts();
  f.mtime = INT64_MIN;
  EXPECT_EQ(format_list_line(f, INT64_MAX),
            "-rw-r--r--    1 alice    staff        1234 Jan  1     1 report.pdf");
  f.mtime = INT64_MAX;
  EXPECT_EQ(format_list_line(f, INT64_MIN),
            "-rw-r--r--    1 alice    staff        1234 Dec 31  9999 report.pdf");
}

TEST(FtpMlsxLine, FileFacts) {
  EXPECT_EQ(format_mlsx_line(file_facts(), "adfrw"),
            "type=file;size=1234;modify=20261123123400;perm=adfrw;unique=801g1b; report.pdf");
}

TEST(FtpMlsxLine, DirectoryHasNoSize) {
  EXPECT_EQ(format_mlsx_line(dir_facts(), "flcdmpe"),
            "type=dir;modify=20261123123400;perm=flcdmpe;unique=801g1a; name");
}

TEST(FtpMlsxLine, CdirAndPdirOverride) {
  FileFacts d = dir_facts();
  d.name = "/pub";
  EXPECT_EQ(format_mlsx_line(d, "el", "cdir"),
            "type=cdir;modify=20261123123400;perm=el;unique=801g1a; /pub");
  d.name = "..";
  EXPECT_EQ(format_mlsx_line(d, "el", "pdir"),
            "type=pdir;modify=20261123123400;perm=el;unique=801g1a; ..");
}

TEST(FtpMlsxLine, LinkAndSpecialTypes) {
  FileFacts f = file_facts();
  f.type = FileType::link;
  EXPECT_EQ(format_mlsx_line(f, "r"),
            "type=OS.unix=symlink;modify=20261123123400;perm=r;unique=801g1b; report.pdf");
  f.type = FileType::other;
  EXPECT_EQ(format_mlsx_line(f, ""),
            "type=OS.unix=special;modify=20261123123400;perm=;unique=801g1b; report.pdf");
}

TEST(FtpMlsxLine, EmptyUniqueOmitted) {
  FileFacts f = file_facts();
  f.unique.clear();
  EXPECT_EQ(format_mlsx_line(f, "r"),
            "type=file;size=1234;modify=20261123123400;perm=r; report.pdf");
}

TEST(FtpMlsxLine, FactValuesCannotBreakTheGrammar) {
  FileFacts f = file_facts();
  f.unique = "8;0 1\r\n";
  EXPECT_EQ(format_mlsx_line(f, "a;d f\n", "cdir; x"),
            "type=cdirx;modify=20261123123400;perm=adf;unique=801; report.pdf");
}

TEST(FtpMlsxLine, NameWithSpacesSemicolonsAndLineBreaks) {
  FileFacts f = file_facts();
  f.name = " lead;semi=x";
  EXPECT_EQ(format_mlsx_line(f, "r"),
            "type=file;size=1234;modify=20261123123400;perm=r;unique=801g1b;  lead;semi=x");
  f.name = "a\r\nb";
  EXPECT_EQ(format_mlsx_line(f, "r"),
            "type=file;size=1234;modify=20261123123400;perm=r;unique=801g1b; a??b");
}

// OPTS MLST (RFC 3659 §7.9): only the selected facts are written; unknown names are ignored.
TEST(FtpMlsxLine, OptsMlstSelectsFacts) {
  const unsigned facts = parse_mlst_facts("Size;type;bogus;");
  EXPECT_EQ(facts, kFactSize | kFactType);
  EXPECT_EQ(mlst_fact_names(facts), "type;size;");
  EXPECT_EQ(mlst_fact_names(facts, true), "type*;size*;modify;perm;unique;");
  EXPECT_EQ(format_mlsx_line(file_facts(), "adfrw", {}, facts), "type=file;size=1234; report.pdf");
  EXPECT_EQ(parse_mlst_facts(""), 0u);
  EXPECT_EQ(format_mlsx_line(file_facts(), "adfrw", {}, 0), " report.pdf");
}

}  // namespace
}  // namespace muxio::ftp
