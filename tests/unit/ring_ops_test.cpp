// The operations io_uring performs itself beyond sockets — file reads and writes, sleeps — on
// every backend: the same results everywhere, and on the proactor (io_uring) proof that they
// were the kernel's work (a read that waits does not stop the loop).
#include <fcntl.h>
#include <liburing.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "muxio/file_ops.hpp"
#include "muxio/time.hpp"
#include "test_support.hpp"

namespace muxio {
namespace {

using namespace std::chrono_literals;
using test::random_bytes;

class RingOps : public ::testing::TestWithParam<std::string> {
 protected:
  bool has_proactor() { return loop.selector().backend().proactor() != nullptr; }
  EventLoop loop{GetParam()};
};

struct TempFile {
  TempFile() {
    fd = ::mkstemp(path);
    ::unlink(path);
  }
  ~TempFile() { ::close(fd); }
  char path[32] = "/tmp/muxio-fileops-XXXXXX";
  int fd;
};

TEST_P(RingOps, FileWritesAtOffsetsThenReadsAtOffsets) {
  TempFile f;
  ASSERT_GE(f.fd, 0);
  auto data = random_bytes(1 << 20, 7);
  auto main = [&]() -> Task<void> {
    // The second half first: each write lands at its offset, whatever the order.
    auto half = std::span<const std::byte>(data).subspan(0, data.size() / 2);
    auto rest = std::span<const std::byte>(data).subspan(data.size() / 2);
    auto second_half = co_await write_file_all(f.fd, rest, half.size());
    EXPECT_FALSE(second_half);
    auto first_half = co_await write_file_all(f.fd, half, 0);
    EXPECT_FALSE(first_half);

    std::vector<std::byte> back(4096);
    auto n = co_await read_file_at(f.fd, back, 12345);
    EXPECT_TRUE(n.ok());
    if (n) {
      EXPECT_EQ(*n, back.size());
      EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin() + 12345));
    }
    auto eof = co_await read_file_at(f.fd, back, static_cast<std::int64_t>(data.size()));
    EXPECT_TRUE(eof.ok());
    if (eof) {
      EXPECT_EQ(*eof, 0u) << "a read at the end of the file returns 0";
    }
    auto tail = co_await read_file_at(f.fd, back, static_cast<std::int64_t>(data.size()) - 10);
    EXPECT_TRUE(tail.ok());
    if (tail) {
      EXPECT_EQ(*tail, 10u) << "a read across the end is short";
    }
  };
  loop.run_until_complete(main());
}

TEST_P(RingOps, PositionalWritesLeaveTheRestOfTheFileAlone) {
  TempFile f;
  ASSERT_GE(f.fd, 0);
  ASSERT_EQ(::write(f.fd, "aaaaaaaaaa", 10), 10);
  auto main = [&]() -> Task<void> {
    std::string bb = "BB";
    auto n = co_await write_file_at(f.fd, std::as_bytes(std::span(bb.data(), bb.size())), 4);
    EXPECT_TRUE(n.ok());
  };
  loop.run_until_complete(main());
  char got[11] = {};
  ASSERT_EQ(::pread(f.fd, got, 10, 0), 10);
  EXPECT_STREQ(got, "aaaaBBaaaa");
}

TEST_P(RingOps, FileErrorsAreReported) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto main = [&]() -> Task<void> {
    std::vector<std::byte> buf(16);
    auto n = co_await write_file_at(fds[0], buf, -1);  // the read end cannot be written
    EXPECT_FALSE(n.ok());
    auto bad = co_await read_file_at(-1, buf, 0);
    EXPECT_FALSE(bad.ok());
  };
  loop.run_until_complete(main());
  ::close(fds[0]);
  ::close(fds[1]);
}

// /dev/full takes no byte: every write fails with ENOSPC, as a full disk does. On every backend,
// write_file_all reports it (an upload must never be answered 226 on a full disk).
TEST_P(RingOps, AWriteOntoAFullDeviceFailsWithNoSpace) {
  int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto data = random_bytes(256 << 10, 3);
  std::error_code first;
  std::error_code second;
  auto main = [&]() -> Task<void> {
    first = co_await write_file_all(fd, data, 0);
    second = co_await write_file_all(fd, std::span<const std::byte>(data).first(1), 0);
  };
  loop.run_until_complete(main());
  ::close(fd);
  EXPECT_EQ(first, std::errc::no_space_on_device) << first.message();
  EXPECT_EQ(second, std::errc::no_space_on_device) << second.message();
}

// A small tmpfs, mounted for one test and unmounted after (needs CAP_SYS_ADMIN, as the fault
// tests of muxftpd do).
struct SmallDisk {
  explicit SmallDisk(const char* size) {
    if (::mkdtemp(dir) == nullptr) return;
    std::string options = std::string("size=") + size + ",mode=0700";
    mounted = ::mount("tmpfs", dir, "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted) ::umount2(dir, MNT_DETACH);
    ::rmdir(dir);
  }
  std::string file(const char* name) const { return std::string(dir) + "/" + name; }
  char dir[40] = "/tmp/muxio-small-disk-XXXXXX";
  bool mounted = false;
};

// Writes chunks at `at` until the disk refuses one; returns the bytes written and the error.
Task<std::pair<std::uint64_t, std::error_code>> fill(int fd, std::span<const std::byte> data,
                                                     std::uint64_t at) {
  std::uint64_t written = 0;
  for (auto rest = data; !rest.empty();) {
    auto chunk = rest.first(
        std::min<std::size_t>(rest.size(), 100'000));  // not page-sized: the last one is short
    auto ec = co_await write_file_all(fd, chunk, at + written);
    if (ec) co_return std::pair{written, ec};
    written += chunk.size();
    rest = rest.subspan(chunk.size());
  }
  co_return std::pair{written, std::error_code{}};
}

// A disk that fills up mid-write: every byte reported written is in the file, where it was
// written, and the write that did not fit fails with ENOSPC. On io_uring a short write at "the
// file position" (offset -1) was seen to leave the position behind (Linux 6.18), so the next
// write overwrote it: a resumed upload onto a full disk was answered 226 with its tail missing.
TEST_P(RingOps, WritesOntoADiskThatFillsUpKeepEveryByteTheyReport) {
  SmallDisk disk("1m");
  if (!disk.mounted) GTEST_SKIP() << "mounting a tmpfs needs root and CAP_SYS_ADMIN";
  int fd = ::open(disk.file("grow.bin").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  auto data = random_bytes(4 << 20, 5);
  const std::uint64_t kept = 256 << 10;
  for (int round = 0; round < 8; ++round) {
    // As a failed resume leaves it: cut back to what was there before, then write on from there.
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(kept)), 0);
    std::pair<std::uint64_t, std::error_code> result;
    auto main = [&]() -> Task<void> { result = co_await fill(fd, data, kept); };
    loop.run_until_complete(main());
    auto [written, ec] = result;
    EXPECT_EQ(ec, std::errc::no_space_on_device) << "round " << round << ": " << ec.message();
    struct stat st {};
    ASSERT_EQ(::fstat(fd, &st), 0);
    ASSERT_GE(static_cast<std::uint64_t>(st.st_size), kept + written) << "round " << round;
    std::vector<std::byte> back(written);
    ASSERT_EQ(::pread(fd, back.data(), back.size(), static_cast<off_t>(kept)),
              static_cast<ssize_t>(back.size()));
    EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin())) << "round " << round;
  }
  ::close(fd);
}

// A read of a pipe with nothing in it waits in the kernel; the loop goes on meanwhile (a timer
// writes the data). On a readiness backend this read would block the loop itself, so it is the
// proactor's proof.
TEST_P(RingOps, AReadThatWaitsDoesNotStopTheLoop) {
  if (!has_proactor()) GTEST_SKIP() << "readiness backends read files on the loop thread";
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  bool timer_ran = false;
  auto main = [&]() -> Task<void> {
    loop.call_later(50ms, [&] {
      timer_ran = true;
      EXPECT_EQ(::write(fds[1], "late", 4), 4);
    });
    std::vector<std::byte> buf(16);
    auto n = co_await read_file_at(fds[0], buf, -1);
    EXPECT_TRUE(timer_ran) << "the read completed only after the loop ran the timer";
    EXPECT_TRUE(n.ok());
    if (n) {
      EXPECT_EQ(*n, 4u);
    }
  };
  loop.run_until_complete(main());
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_P(RingOps, ATimeoutCancelsAWaitingFileRead) {
  if (!has_proactor()) GTEST_SKIP() << "readiness backends read files on the loop thread";
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  std::error_code inner;  // what the read itself reported (with_timeout answers timed_out anyway)
  auto read_forever = [&]() -> Task<Result<std::size_t>> {
    std::vector<std::byte> buf(16);
    auto n = co_await read_file_at(fds[0], buf, -1);
    if (!n) inner = n.error();
    co_return n;
  };
  auto main = [&]() -> Task<void> {
    auto r = co_await with_timeout(30ms, read_forever());
    EXPECT_EQ(r.error(), Error::timed_out);
    EXPECT_EQ(inner, Error::timed_out) << inner.message();
  };
  loop.run_until_complete(main());
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_P(RingOps, SleepsWaitAtLeastTheirTime) {
  auto main = [&]() -> Task<void> {
    auto start = Clock::now();
    auto slept = co_await sleep_for(20ms);
    EXPECT_FALSE(slept);
    EXPECT_GE(Clock::now() - start, 20ms);
    auto yielded = co_await sleep_for(Duration::zero());
    EXPECT_FALSE(yielded) << "a zero sleep just yields";
  };
  loop.run_until_complete(main());
}

TEST_P(RingOps, CancellingASleepEndsItWithTheReason) {
  std::error_code slept;
  auto sleeper = [&]() -> Task<void> { slept = co_await sleep_for(10s); };
  std::error_code inner;
  auto bounded = [&]() -> Task<std::error_code> {
    inner = co_await sleep_for(10s);
    co_return inner;
  };
  auto main = [&]() -> Task<void> {
    auto start = Clock::now();
    auto handle = loop.spawn(sleeper());
    (void)co_await sleep_for(10ms);
    handle.cancel();
    co_await handle.join();
    EXPECT_EQ(slept, Error::cancelled);
    EXPECT_LT(Clock::now() - start, 5s) << "the 10 s sleep was cut short";
    auto timed = co_await with_timeout(10ms, bounded());
    EXPECT_EQ(timed, Error::timed_out);
    EXPECT_EQ(inner, Error::timed_out) << "the sleep itself ended with the timeout's reason";
  };
  loop.run_until_complete(main());
}

TEST_P(RingOps, ManySleepsEndInDeadlineOrder) {
  std::vector<int> order;
  auto sleeper = [&](int i) -> Task<void> {
    (void)co_await sleep_for(std::chrono::milliseconds(5 * (10 - i)));
    order.push_back(i);
  };
  auto main = [&]() -> Task<void> {
    std::vector<TaskHandle> handles;
    for (int i = 0; i < 10; ++i)
      handles.push_back(loop.spawn(sleeper(i)));
    for (auto& h : handles)
      co_await h.join();
  };
  loop.run_until_complete(main());
  EXPECT_EQ(order, (std::vector<int>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
}

TEST_P(RingOps, DestroyingALoopWithASleepingTaskIsClean) {
  auto l = std::make_unique<EventLoop>(GetParam());
  auto sleeper = []() -> Task<void> { (void)co_await sleep_for(10s); };
  auto main = [&]() -> Task<void> {
    l->spawn(sleeper());
    (void)co_await sleep_for(5ms);
  };
  l->run_until_complete(main());
  // The sleeping task's frame is freed with the loop (LeakSanitizer would report it otherwise),
  // and the ring goes with it, its pending timeout never delivered to freed memory.
  l.reset();
  SUCCEED();
}

// The read requests (IORING_OP_READ) the kernel still holds in any io_uring of this process, as
// its fdinfo lists them: a read of an empty pipe waits there as an armed poll.
int kernel_reads_in_flight() {
  int reads = 0;
  std::string wanted = "op=" + std::to_string(IORING_OP_READ) + ",";
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (ec || target.string() != "anon_inode:[io_uring]") continue;
    std::ifstream info("/proc/self/fdinfo/" + entry.path().filename().string());
    bool in_poll_list = false;
    bool listed = false;
    for (std::string line; std::getline(info, line);) {
      if (line.rfind("PollList:", 0) == 0) {
        in_poll_list = listed = true;
      } else if (in_poll_list && line.rfind("  ", 0) != 0) {
        in_poll_list = false;
      } else if (in_poll_list && line.find(wanted) != std::string::npos) {
        ++reads;
      }
    }
    EXPECT_TRUE(listed) << "this kernel's io_uring fdinfo has no PollList";
  }
  return reads;
}

// A file read the kernel still performs when its loop is destroyed (a pipe that never gets data):
// the loop has the kernel cancel it, and waits until it is done, before it frees the frame that
// owns the buffer (ASan: nothing freed is touched; LSan: nothing leaks). A probe in the frame,
// destroyed with it, finds no read left in the kernel; on a second reader the data came but the
// completion was never reaped: dropped, nobody resumed.
// (Readiness backends read files on the loop thread: nothing of theirs is ever in flight.)
TEST(RingTeardown, DestroyingALoopWithAFileReadInFlightCancelsItFirst) {
  auto l = std::make_unique<EventLoop>("uring");
  int idle[2];
  int fed[2];
  ASSERT_EQ(::pipe2(idle, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(fed, O_CLOEXEC), 0);
  struct Probe {
    int* reads_left;
    ~Probe() { *reads_left = kernel_reads_in_flight(); }
  };
  int reads_left_at_free = -1;
  int resumed = 0;
  auto reader = [&](int fd) -> Task<void> {
    Probe probe{&reads_left_at_free};  // destroyed after the buffer
    std::vector<std::byte> buf(4096);
    (void)co_await read_file_at(fd, buf, -1);
    ++resumed;
  };
  l->spawn(reader(idle[0]));
  l->spawn(reader(fed[0]));
  for (int i = 0; i < 3; ++i)
    l->run_once(1ms);
  ASSERT_EQ(kernel_reads_in_flight(), 2);
  ASSERT_EQ(::write(fed[1], "late", 4), 4);  // the kernel completes it; the loop never reaps it
  l.reset();
  EXPECT_EQ(reads_left_at_free, 0) << "a frame was freed while the kernel still had its read";
  EXPECT_EQ(resumed, 0);
  for (int fd : {idle[0], idle[1], fed[0], fed[1]})
    ::close(fd);
}

// A send queued in the ring names its socket by number, and the kernel looks the number up when
// the request is submitted (with the loop's next wait). A stream closed before that, whose number
// a new socket takes at once (the lowest free one), must not send its bytes to the new socket.
TEST_P(RingOps, AQueuedSendNeverReachesTheSocketThatReusesTheNumber) {
  test::SocketPair a;
  int a_fd = a.release(0);
  TcpStream stream(loop, a_fd);
  std::string secret = "for the peer of A only";
  bool ended = false;
  auto sender = [&]() -> Task<void> {
    (void)co_await stream.send_all(secret);
    ended = true;
  };
  loop.spawn(sender());
  loop.run_once(0ms);  // the sender runs: on io_uring its send is queued, not submitted yet
  stream.close();
  test::SocketPair b;  // takes the lowest free numbers, A's among them
  ASSERT_TRUE(b.fd[0] == a_fd || b.fd[1] == a_fd) << "the new pair did not reuse A's number";
  int peer = b.fd[0] == a_fd ? b.fd[1] : b.fd[0];
  for (int i = 0; i < 100 && !ended; ++i)
    loop.run_once(10ms);  // submits whatever is queued, and completes the send
  EXPECT_TRUE(ended);
  char got[64];
  ssize_t n = ::recv(peer, got, sizeof got, MSG_DONTWAIT);
  EXPECT_EQ(n, -1) << "A's bytes reached the socket that reused its number: "
                   << std::string(got, n > 0 ? static_cast<std::size_t>(n) : 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, RingOps, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace muxio
