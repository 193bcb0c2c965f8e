// TYPE A on the client's side: local files rewritten CRLF -> LF in place, LF -> CRLF copies.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "ftpc/ascii_files.hpp"

using namespace muxio::ftpc;

namespace {

class MemFile {
 public:
  explicit MemFile(const std::string& content) : fd_(::memfd_create("ascii", 0)) {
    EXPECT_GE(fd_, 0);
    EXPECT_EQ(::write(fd_, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  }
  ~MemFile() { ::close(fd_); }
  int fd() const { return fd_; }
  std::string content() const {
    std::string out;
    char buf[4096];
    off_t at = 0;
    for (ssize_t n; (n = ::pread(fd_, buf, sizeof buf, at)) > 0; at += n)
      out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

 private:
  int fd_;
};

}  // namespace

TEST(AsciiFiles, CrlfToLfInPlace) {
  MemFile f("one\r\ntwo\r\nlone\rcr\r\n\r\nend\r");
  ASSERT_FALSE(crlf_to_lf_in_place(f.fd()));
  EXPECT_EQ(f.content(), "one\ntwo\nlone\rcr\n\nend\r");
}

TEST(AsciiFiles, LargerThanOneChunk) {
  std::string net, local;
  for (int i = 0; i < 100000; ++i) {
    net += "line " + std::to_string(i) + "\r\n";
    local += "line " + std::to_string(i) + "\n";
  }
  MemFile f(net);
  ASSERT_FALSE(crlf_to_lf_in_place(f.fd()));
  EXPECT_EQ(f.content(), local);
  MemFile back("");
  ASSERT_FALSE(lf_to_crlf_copy(f.fd(), back.fd()));
  EXPECT_EQ(back.content(), net);
}

TEST(AsciiFiles, LfToCrlfKeepsExistingCrlf) {
  MemFile from("a\nb\r\nc");
  MemFile to("");
  ASSERT_FALSE(lf_to_crlf_copy(from.fd(), to.fd()));
  EXPECT_EQ(to.content(), "a\r\nb\r\nc");
}
