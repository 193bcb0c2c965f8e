#include "ftpc/segmented_get.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ftpc/url.hpp"

namespace muxio::ftpc {

std::vector<std::pair<std::uint64_t, std::uint64_t>> cut_into_segments(std::uint64_t size,
                                                                       std::size_t wanted) {
  std::uint64_t k = std::max<std::size_t>(1, wanted);
  if (size < k * kMinSegmentBytes) k = std::max<std::uint64_t>(1, size / kMinSegmentBytes);
  const std::uint64_t step = size / k;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (std::uint64_t i = 0; i < k; ++i) {
    std::uint64_t to = i + 1 == k ? size : step * (i + 1);
    ranges.emplace_back(step * i, to);
  }
  return ranges;
}

std::vector<Job> segment_jobs(const std::string& remote, const std::string& local,
                              std::uint64_t size, std::size_t wanted) {
  std::vector<Job> jobs;
  for (const auto& range : cut_into_segments(size, wanted)) {
    Job j;
    j.direction = JobKind::get;
    j.remote = remote;
    j.local = local;
    j.label = base_name(remote) + " #" + std::to_string(jobs.size() + 1);
    j.range = range;
    j.size = size;
    jobs.push_back(j);
  }
  return jobs;
}

namespace {

// The file, created when missing, cut or grown to `size`: every segment writes into its place.
std::error_code make_file_of_size(const std::string& path, std::uint64_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_code(errno);
  std::error_code ec;
  if (::ftruncate(fd, static_cast<off_t>(size)) < 0) ec = errno_code(errno);
  ::close(fd);
  return ec;
}

}  // namespace

Task<SegmentedGet> prepare_segmented_get(EventLoop& loop, Endpoint endpoint, std::string remote,
                                         std::string source, std::string out_dir,
                                         std::size_t wanted) {
  SegmentedGet get;
  auto conn = co_await open_session(loop, endpoint);
  if (!conn) {
    get.error = source + ": " + describe_error(conn.error(), nullptr);
    co_return get;
  }
  auto size = co_await (*conn)->size(remote);
  if (!size) {
    get.error = source + ": SIZE: " + describe_error(size.error(), conn->get());
    co_return get;
  }
  co_await (*conn)->quit();
  get.size = *size;
  get.local = join_path(out_dir, base_name(remote));
  if (auto ec = make_file_of_size(get.local, get.size)) {
    get.error = get.local + ": " + ec.message();
    co_return get;
  }
  get.jobs = segment_jobs(remote, get.local, get.size, wanted);
  co_return get;
}

std::error_code check_reassembled(const SegmentedGet& get) {
  struct stat st {};
  if (::stat(get.local.c_str(), &st) != 0) return errno_code(errno);
  if (static_cast<std::uint64_t>(st.st_size) != get.size) {
    return make_error_code(ClientError::short_transfer);
  }
  return {};
}

}  // namespace muxio::ftpc
