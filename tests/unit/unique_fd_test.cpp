// UniqueFd::close: the result of close(2) reaches the caller, EINTR included (Linux has freed the
// descriptor by then, but written data may be lost), and the descriptor is never closed twice.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

#include "muxio/unique_fd.hpp"
#include "test_support.hpp"

namespace muxio {
namespace {

// From here on, close(2) in this process fails with `err` without closing anything.
bool make_close_fail(int err) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<unsigned>(err)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

// In a child (the filter cannot be removed): exits 0 when close() reports `err` once and
// leaves the UniqueFd empty, so that it is not closed a second time.
void close_reports(int err) {
  UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!fd || !make_close_fail(err)) ::_exit(2);
  std::error_code ec = fd.close();
  if (ec.value() != err) ::_exit(3);
  if (fd) ::_exit(4);
  if (fd.close()) ::_exit(5);  // nothing left to close
  ::_exit(0);
}

TEST(UniqueFdTest, CloseReportsEintrAsAnError) {
  EXPECT_EXIT(close_reports(EINTR), ::testing::ExitedWithCode(0), "");
}

TEST(UniqueFdTest, CloseReportsEio) {
  EXPECT_EXIT(close_reports(EIO), ::testing::ExitedWithCode(0), "");
}

TEST(UniqueFdTest, CloseSucceedsAndFreesTheDescriptor) {
  UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  int number = fd.get();
  EXPECT_FALSE(fd.close());
  EXPECT_FALSE(fd);
  EXPECT_EQ(::fcntl(number, F_GETFD), -1);
}

}  // namespace
}  // namespace muxio
