// Client-side protocol parsing: reply assembly, 227/229/257/211/213 texts, MLSD and LIST lines.
#include <gtest/gtest.h>

#include "ftp/client_reply.hpp"
#include "ftp/listing_parse.hpp"

using namespace muxio::ftp;

namespace {

Reply feed_all(ReplyAssembler& a, const std::vector<std::string>& lines) {
  Reply r;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto st = a.add_line(lines[i], &r);
    if (i + 1 < lines.size()) {
      EXPECT_EQ(st, ReplyAssembler::Status::need_more) << lines[i];
    } else {
      EXPECT_EQ(st, ReplyAssembler::Status::complete) << lines[i];
    }
  }
  return r;
}

}  // namespace

TEST(ReplyAssembler, SingleLine) {
  ReplyAssembler a;
  std::vector<std::string> lines = {"220 Welcome\r"};
  Reply r = feed_all(a, lines);
  EXPECT_EQ(r.code, 220);
  EXPECT_EQ(r.kind(), 2);
  EXPECT_EQ(r.text(), "Welcome");
  EXPECT_FALSE(a.in_reply());
}

TEST(ReplyAssembler, BareCode) {
  ReplyAssembler a;
  Reply r;
  EXPECT_EQ(a.add_line("200", &r), ReplyAssembler::Status::complete);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.text(), "");
}

TEST(ReplyAssembler, MultiLineEndsOnlyAtSameCodeAndSpace) {
  ReplyAssembler a;
  std::vector<std::string> lines = {"211-Features:", " MDTM", "211-not the end",
                                    "230 nor this",  " SIZE", "211 End"};
  Reply r = feed_all(a, lines);
  EXPECT_EQ(r.code, 211);
  ASSERT_EQ(r.lines.size(), 6u);
  EXPECT_EQ(r.text(), "Features:\n MDTM\n211-not the end\n230 nor this\n SIZE\nEnd");
}

TEST(ReplyAssembler, MalformedAndOutOfRange) {
  ReplyAssembler a;
  Reply r;
  EXPECT_EQ(a.add_line("hello", &r), ReplyAssembler::Status::malformed);
  EXPECT_EQ(a.add_line("099 low", &r), ReplyAssembler::Status::malformed);
  EXPECT_EQ(a.add_line("600 high", &r), ReplyAssembler::Status::malformed);
  EXPECT_EQ(a.add_line("2000 long", &r), ReplyAssembler::Status::malformed);
  EXPECT_EQ(a.add_line("12", &r), ReplyAssembler::Status::malformed);
  EXPECT_EQ(a.add_line("331 ok", &r), ReplyAssembler::Status::complete);
  EXPECT_EQ(r.code, 331);
}

TEST(ReplyAssembler, ConsecutiveReplies) {
  ReplyAssembler a;
  Reply r;
  EXPECT_EQ(a.add_line("150 Opening", &r), ReplyAssembler::Status::complete);
  EXPECT_EQ(r.code, 150);
  EXPECT_EQ(a.add_line("226-Done", &r), ReplyAssembler::Status::need_more);
  EXPECT_EQ(a.add_line("226 ", &r), ReplyAssembler::Status::complete);
  EXPECT_EQ(r.code, 226);
}

TEST(PasvReply, Parses) {
  auto a = parse_pasv_reply("Entering Passive Mode (127,0,0,1,19,137).");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ip(), "127.0.0.1");
  EXPECT_EQ(a->port(), 19 * 256 + 137);
  auto b = parse_pasv_reply("Entering Passive Mode 10,1,2,3,4,5");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->port(), 4 * 256 + 5);
  auto c = parse_pasv_reply("=127,0,0,1,0,21");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->port(), 21);
}

TEST(PasvReply, Refuses) {
  EXPECT_FALSE(parse_pasv_reply("Entering Passive Mode"));
  EXPECT_FALSE(parse_pasv_reply("(127,0,0,1,19)"));
  EXPECT_FALSE(parse_pasv_reply("(256,0,0,1,19,1)"));
  EXPECT_FALSE(parse_pasv_reply("(127,0,0,1,0,0)"));
  EXPECT_FALSE(parse_pasv_reply("(127,0,0,1,1,2,3)"));
}

TEST(EpsvReply, Parses) {
  EXPECT_EQ(parse_epsv_reply("Entering Extended Passive Mode (|||6446|)"), 6446);
  EXPECT_EQ(parse_epsv_reply("ok (!!!1!)"), 1);
  EXPECT_EQ(parse_epsv_reply("(|||65535|)"), 65535);
}

TEST(EpsvReply, Refuses) {
  EXPECT_FALSE(parse_epsv_reply("Entering Extended Passive Mode"));
  EXPECT_FALSE(parse_epsv_reply("(|||0|)"));
  EXPECT_FALSE(parse_epsv_reply("(|||65536|)"));
  EXPECT_FALSE(parse_epsv_reply("(|||123456|)"));
  EXPECT_FALSE(parse_epsv_reply("(||1|6446|)"));
  EXPECT_FALSE(parse_epsv_reply("(|||6446)"));
  EXPECT_FALSE(parse_epsv_reply("(|||)"));
  EXPECT_FALSE(parse_epsv_reply("(1116446|)"));
}

TEST(QuotedPath, Parses) {
  EXPECT_EQ(parse_quoted_path("\"/home/a\" is the current directory"), "/home/a");
  EXPECT_EQ(parse_quoted_path("\"/say \"\"hi\"\"\" created"), "/say \"hi\"");
  EXPECT_EQ(parse_quoted_path("\"\""), "");
  EXPECT_FALSE(parse_quoted_path("no quotes"));
  EXPECT_FALSE(parse_quoted_path("\"unterminated"));
}

TEST(Feat, Parses) {
  Reply r{
      211,
      {"211-Features:", " MDTM", " MLST type*;size*;modify*;", " rest STREAM", " UTF8", "211 End"}};
  auto f = parse_feat(r);
  EXPECT_EQ(f.size(), 4u);
  EXPECT_EQ(f["MLST"], "type*;size*;modify*;");
  EXPECT_EQ(f["REST"], "STREAM");
  EXPECT_TRUE(f.count("MDTM"));
  Reply refused{500, {"500 FEAT not understood"}};
  EXPECT_TRUE(parse_feat(refused).empty());
}

TEST(SizeReply, Parses) {
  EXPECT_EQ(parse_size_reply("1234"), 1234u);
  EXPECT_EQ(parse_size_reply(" 0 "), 0u);
  EXPECT_EQ(parse_size_reply("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parse_size_reply("18446744073709551616"));
  EXPECT_FALSE(parse_size_reply("-1"));
  EXPECT_FALSE(parse_size_reply("12 bytes"));
  EXPECT_FALSE(parse_size_reply(""));
}

TEST(HashReply, Parses) {
  auto r = parse_hash_reply("SHA-256 0-1234 BA7816bf8f01 my file name.bin");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->algorithm, "SHA-256");
  EXPECT_EQ(r->start, 0u);
  EXPECT_EQ(r->end, 1234u);
  EXPECT_EQ(r->digest, "ba7816bf8f01");
  EXPECT_TRUE(parse_hash_reply("CRC32 10-20 352441c2"));   // the path is optional
  EXPECT_FALSE(parse_hash_reply("SHA-256 20-10 abcd f"));  // backwards
  EXPECT_FALSE(parse_hash_reply("SHA-256 0-10 xyz f"));    // not hex
  EXPECT_FALSE(parse_hash_reply("SHA-256 010 abcd f"));    // no range
  EXPECT_FALSE(parse_hash_reply("SHA-256"));
  EXPECT_FALSE(parse_hash_reply(""));
}

TEST(CommandLine, RefusesInjection) {
  EXPECT_EQ(command_line("RETR", "a b"), "RETR a b\r\n");
  EXPECT_EQ(command_line("PWD", ""), "PWD\r\n");
  EXPECT_FALSE(command_line("RETR", "a\r\nDELE b"));
  EXPECT_FALSE(command_line("RETR", "a\nb"));
  EXPECT_FALSE(command_line("RETR", std::string("a\0b", 3)));
}

TEST(MlsxLine, Parses) {
  auto e = parse_mlsx_line("type=file;size=1234;modify=20261123123456;perm=r; my file;x.txt\r");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "my file;x.txt");
  EXPECT_EQ(e->type, FileType::file);
  EXPECT_EQ(e->size, 1234u);
  EXPECT_EQ(e->mtime, 1795437296);
  auto d = parse_mlsx_line("Type=DIR;Modify=20000101000000; sub");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, FileType::dir);
  EXPECT_FALSE(d->size);
  auto l = parse_mlsx_line("type=OS.unix=slink:/x; link");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->type, FileType::link);
  EXPECT_FALSE(parse_mlsx_line("type=cdir; ."));
  EXPECT_FALSE(parse_mlsx_line("type=pdir; .."));
  EXPECT_FALSE(parse_mlsx_line("nospace"));
  EXPECT_FALSE(parse_mlsx_line("type=file;size=1; "));
  auto bad_size = parse_mlsx_line("type=file;size=12x; f");
  ASSERT_TRUE(bad_size);
  EXPECT_FALSE(bad_size->size);
}

TEST(ListLine, UnixRecentAndOld) {
  // now = 2026-11-24 00:00:00 UTC
  const std::int64_t now = 1795478400;
  auto e =
      parse_list_line("-rw-r--r--    1 ftp      ftp          4096 Nov 23 12:34 a file.txt", now);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "a file.txt");
  EXPECT_EQ(e->type, FileType::file);
  EXPECT_EQ(e->size, 4096u);
  EXPECT_EQ(e->mtime, 1795437240);
  // December without a year is last year's.
  auto dec = parse_list_line("-rw-r--r-- 1 u g 1 Dec 25 10:00 x", now);
  ASSERT_TRUE(dec);
  EXPECT_EQ(dec->mtime, 1766656800);  // 2025-12-25 10:00
  auto old = parse_list_line("drwxr-xr-x 2 u g 4096 Jan  2  2020 dir", now);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->type, FileType::dir);
  EXPECT_EQ(old->mtime, 1577923200);
}

TEST(ListLine, LinksNoGroupAndJunk) {
  const std::int64_t now = 1795478400;
  auto l = parse_list_line("lrwxrwxrwx 1 u g 7 Nov 23 12:34 link -> target", now);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->name, "link");
  EXPECT_EQ(l->link_target, "target");
  auto ng = parse_list_line("-rw-r--r-- 1 owner 99 Nov 23 12:34 nogroup", now);
  ASSERT_TRUE(ng);
  EXPECT_EQ(ng->size, 99u);
  EXPECT_EQ(ng->name, "nogroup");
  auto sp = parse_list_line("-rw-r--r-- 1 u g 5 Nov 23 12:34  leading space", now);
  ASSERT_TRUE(sp);
  EXPECT_EQ(sp->name, " leading space");
  EXPECT_FALSE(parse_list_line("total 12", now));
  EXPECT_FALSE(parse_list_line("", now));
  EXPECT_FALSE(parse_list_line("-rw-r--r-- 1 u g x Nov 23 12:34 f", now));
  EXPECT_FALSE(parse_list_line("drwxr-xr-x 2 u g 4096 Nov 23 12:34 .", now));
}

TEST(ListLine, MsDos) {
  const std::int64_t now = 1795478400;
  auto d = parse_list_line("11-23-25  12:34PM       <DIR>          Some Dir", now);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, FileType::dir);
  EXPECT_EQ(d->name, "Some Dir");
  auto f = parse_list_line("01-02-20  09:05AM                 1234 f.txt", now);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->size, 1234u);
  EXPECT_EQ(f->mtime, 1577955900);  // 2020-01-02 09:05
  EXPECT_FALSE(parse_list_line("01-02-20  13:05XM  1 f", now));
}
