#include "ftpc/ascii_files.hpp"

#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "ftp/ascii_codec.hpp"

namespace muxio::ftpc {

namespace {

constexpr std::size_t kChunk = 256 << 10;

std::error_code last_error() {
  return {errno, std::system_category()};
}

std::error_code pwrite_all(int fd, std::string_view s, off_t at) {
  while (!s.empty()) {
    ssize_t n = ::pwrite(fd, s.data(), s.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_error();
    s.remove_prefix(static_cast<std::size_t>(n));
    at += n;
  }
  return {};
}

std::error_code write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_error();
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

std::error_code crlf_to_lf_in_place(int fd) {
  // The output never gets ahead of the input (it only loses bytes), so writing behind the read
  // offset in the same file is safe.
  ftp::FromNetworkAscii codec;
  std::vector<char> buf(kChunk);
  std::string out;
  off_t read_at = 0, write_at = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), read_at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_error();
    if (n == 0) break;
    read_at += n;
    out.clear();
    codec.convert(std::string_view(buf.data(), static_cast<std::size_t>(n)), out);
    if (auto ec = pwrite_all(fd, out, write_at)) return ec;
    write_at += static_cast<off_t>(out.size());
  }
  out.clear();
  codec.finish(out);
  if (auto ec = pwrite_all(fd, out, write_at)) return ec;
  write_at += static_cast<off_t>(out.size());
  if (::ftruncate(fd, write_at) < 0) return last_error();
  return {};
}

std::error_code lf_to_crlf_copy(int from_fd, int to_fd) {
  ftp::ToNetworkAscii codec;
  std::vector<char> buf(kChunk);
  std::string out;
  off_t read_at = 0;
  for (;;) {
    ssize_t n = ::pread(from_fd, buf.data(), buf.size(), read_at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_error();
    if (n == 0) return {};
    read_at += n;
    out.clear();
    codec.convert(std::string_view(buf.data(), static_cast<std::size_t>(n)), out);
    if (auto ec = write_all(to_fd, out)) return ec;
  }
}

}  // namespace muxio::ftpc
