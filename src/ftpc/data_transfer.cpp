// The data loops of ControlConnection (declared in control.hpp): a listing read whole and parsed,
// RETR written to a file with pwrite, STOR read from a file with pread. The set-up of the data
// connection (EPSV/PASV/EPRT/PORT, TLS) and the replies around it are control.cpp's.
#include <unistd.h>

#include <array>
#include <cerrno>

#include "ftpc/client_errors.hpp"
#include "ftpc/control.hpp"

namespace muxio::ftpc {

namespace {

std::string_view as_text(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::error_code pwrite_all(int fd, const std::byte* data, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno_code(errno);
    }
    data += w;
    n -= static_cast<std::size_t>(w);
    offset += static_cast<std::uint64_t>(w);
  }
  return {};
}

}  // namespace

Task<Result<std::vector<ftp::RemoteEntry>>> ControlConnection::list(std::string path) {
  const bool mlsd = has_feature("MLST");
  std::string verb = mlsd ? "MLSD" : "LIST";
  auto stream = co_await open_transfer(verb, path);
  if (!stream) co_return stream.error();
  std::string text;
  std::vector<std::byte> buf(64 << 10);
  constexpr std::size_t kMaxListing = 256u << 20;
  for (;;) {
    auto n = co_await with_timeout(options_.data_timeout, (*stream)->read_some(buf));
    if (!n) {
      usable_ = false;
      co_return n.error();
    }
    if (*n == 0) break;
    text.append(as_text(std::span<const std::byte>(buf.data(), *n)));
    if (text.size() > kMaxListing) {
      usable_ = false;
      co_return make_error_code(ClientError::protocol);
    }
  }
  (*stream)->close();
  auto ec = co_await finish_transfer(true);
  if (ec) co_return ec;
  std::vector<ftp::RemoteEntry> entries;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + start, nl - start);
    start = nl + 1;
    auto e = mlsd ? ftp::parse_mlsx_line(line) : ftp::parse_list_line(line, now);
    if (e) entries.push_back(std::move(*e));
  }
  co_return entries;
}

Task<std::error_code> ControlConnection::retrieve(std::string remote, int fd, std::uint64_t offset,
                                                  std::optional<std::uint64_t> length,
                                                  std::uint64_t* position) {
  if (offset > 0 || length) {
    auto ec = co_await simple("REST", std::to_string(offset), 3);
    if (ec) co_return ec;
  }
  auto stream = co_await open_transfer("RETR", remote);
  if (!stream) co_return stream.error();
  std::vector<std::byte> buf(options_.buffer_size);
  std::uint64_t pos = offset;
  const std::uint64_t end = length ? offset + *length : UINT64_MAX;
  bool stopped_early = false;
  while (pos < end) {
    auto n = co_await with_timeout(options_.data_timeout, (*stream)->read_some(buf));
    if (!n) {
      usable_ = false;
      co_return n.error();
    }
    if (*n == 0) break;
    std::size_t take = *n;
    if (end - pos < take) take = static_cast<std::size_t>(end - pos);
    if (auto ec = pwrite_all(fd, buf.data(), take, pos)) {
      usable_ = false;
      co_return ec;
    }
    pos += take;
    if (position != nullptr) *position = pos;
  }
  if (length && pos >= end) {
    // The rest of the file is not wanted: closing the data connection makes the server give up
    // (426 or 451, sometimes 226). The session is left for its owner to close.
    stopped_early = true;
    usable_ = false;
  }
  (*stream)->close();
  auto ec = co_await with_timeout(options_.reply_timeout, finish_transfer(!stopped_early));
  if (stopped_early) co_return std::error_code{};
  if (ec) co_return ec;
  if (length && pos < end) co_return make_error_code(ClientError::short_transfer);
  co_return std::error_code{};
}

Task<std::error_code> ControlConnection::store(std::string remote, int fd, std::uint64_t offset,
                                               StoreMode mode, std::uint64_t* position) {
  if (mode == StoreMode::restart && offset > 0) {
    auto ec = co_await simple("REST", std::to_string(offset), 3);
    if (ec) co_return ec;
  }
  std::string verb = mode == StoreMode::append ? "APPE" : "STOR";
  auto stream = co_await open_transfer(verb, remote);
  if (!stream) co_return stream.error();
  std::vector<std::byte> buf(options_.buffer_size);
  std::uint64_t pos = offset;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(pos));
    if (n < 0) {
      if (errno == EINTR) continue;
      usable_ = false;
      co_return errno_code(errno);
    }
    if (n == 0) break;
    auto chunk = std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n));
    auto ec = co_await with_timeout(options_.data_timeout, (*stream)->write_all(chunk));
    if (ec) {
      usable_ = false;
      co_return ec;
    }
    pos += static_cast<std::uint64_t>(n);
    if (position != nullptr) *position = pos;
  }
  // The end of the file: under TLS a close_notify first, so the server knows it is all there.
  (void)co_await with_timeout(options_.data_timeout, (*stream)->shutdown());
  // Then wait for the server to close its side. Closing at once with bytes of the server's
  // unread (TLS 1.3 session tickets) would send a reset, and a reset makes the server's
  // kernel drop upload data it has not read yet.
  std::array<std::byte, 4096> sink;
  for (int i = 0; i < 64; ++i) {
    auto n = co_await with_timeout(options_.data_timeout, (*stream)->read_some(sink));
    if (!n || *n == 0) break;
  }
  (*stream)->close();
  co_return co_await finish_transfer(true);
}

}  // namespace muxio::ftpc
