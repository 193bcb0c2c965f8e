// HASH (draft-bryan-ftpext-hash-02) and the legacy XSHA256, XSHA1, XMD5 and XCRC (ProFTPD's
// mod_digest forms): the digest of a file the user may read, so that a client can check a
// transfer without fetching the file again (muxftp's --verify, FileZilla, SFTPGo's clients).
//
// The file is read on the offload pool one chunk per job: hashing a large file never holds a
// pool thread for long (logins and listings of other sessions interleave with it) and never runs
// on the loop. The cost is bounded: at most kMaxHashBytes per request (a client asks for a range
// beyond that) and kSessionHashBudget per session; a session hashes one file at a time, as its
// commands run one after another.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "ftpd/session.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpd {

using ftp::FileHasher;
using ftp::HashAlgorithm;

namespace {

constexpr std::size_t kHashChunk = 1 << 20;
constexpr std::uint64_t kMaxHashBytes = std::uint64_t{16} << 30;
constexpr std::uint64_t kSessionHashBudget = std::uint64_t{64} << 30;

std::optional<std::uint64_t> parse_offset(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

Task<void> Session::cmd_hash(const std::string& arg) {
  HashRequest request;
  request.path = arg;
  request.algorithm = hash_algorithm_;
  co_await answer_hash(std::move(request));
}

Task<void> Session::cmd_xsha256(const std::string& arg) {
  co_await legacy_hash(arg, HashAlgorithm::sha256);
}
Task<void> Session::cmd_xsha1(const std::string& arg) {
  co_await legacy_hash(arg, HashAlgorithm::sha1);
}
Task<void> Session::cmd_xmd5(const std::string& arg) {
  co_await legacy_hash(arg, HashAlgorithm::md5);
}
Task<void> Session::cmd_xcrc(const std::string& arg) {
  co_await legacy_hash(arg, HashAlgorithm::crc32);
}

// `XMD5 path` hashes the whole file; `XMD5 "path" start [end]` a range (the quotes let a path
// hold spaces and still be followed by numbers).
Task<void> Session::legacy_hash(const std::string& arg, HashAlgorithm algorithm) {
  HashRequest request;
  request.algorithm = algorithm;
  request.legacy = true;
  request.path = arg;
  if (arg.size() > 1 && arg.front() == '"') {
    const auto close = arg.find('"', 1);
    if (close == std::string::npos) {
      co_await reply(501, "Unbalanced quote in the path.");
      co_return;
    }
    request.path = arg.substr(1, close - 1);
    std::string_view rest = std::string_view(arg).substr(close + 1);
    while (!rest.empty() && rest.front() == ' ')
      rest.remove_prefix(1);
    const auto space = rest.find(' ');
    const auto start =
        rest.empty() ? std::optional<std::uint64_t>(0) : parse_offset(rest.substr(0, space));
    const auto end = space == std::string_view::npos ? std::optional<std::uint64_t>()
                                                     : parse_offset(rest.substr(space + 1));
    if (!start || (space != std::string_view::npos && !end)) {
      co_await reply(501, "Give the range as: \"path\" start [end].");
      co_return;
    }
    request.start = *start;
    request.end = end;
  }
  co_await answer_hash(std::move(request));
}

Task<void> Session::answer_hash(HashRequest request) {
  bool allowed = co_await require(kRead);
  if (!allowed) co_return;
  auto path = co_await resolve(request.path);
  if (!path) co_return;
  auto file = co_await offload([&] { return vfs_.open(*path, O_RDONLY); });
  if (!file) {
    co_await reply_error(file.error());
    co_return;
  }
  struct stat st {};
  if (::fstat(file->get(), &st) < 0 || !S_ISREG(st.st_mode)) {
    co_await reply(550, "Not a regular file.");
    co_return;
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::uint64_t end = std::min(request.end.value_or(size), size);
  if (request.start > end) {
    co_await reply(501, "The range starts after its end or after the end of the file.");
    co_return;
  }
  const std::uint64_t length = end - request.start;
  if (length > kMaxHashBytes) {
    co_await reply(550, "Too much to hash at once (over " + std::to_string(kMaxHashBytes) +
                            " bytes); ask for ranges.");
    co_return;
  }
  if (hashed_bytes_ + length > kSessionHashBudget) {
    co_await reply(450, "This session has hashed its share; reconnect to hash more.");
    co_return;
  }
  hashed_bytes_ += length;
  auto digest = co_await hash_range(file->get(), request.algorithm, request.start, end);
  if (!digest) {
    co_await reply(451, "Cannot hash the file: " + digest.error().message() + ".");
    co_return;
  }
  if (request.legacy) {
    co_await reply(250, *digest);
    co_return;
  }
  co_await reply(213, std::string(hash_algorithm_name(request.algorithm)) + " " +
                          std::to_string(request.start) + "-" + std::to_string(end) + " " +
                          *digest + " " + request.path);
}

Task<Result<std::string>> Session::hash_range(int fd, HashAlgorithm algorithm, std::uint64_t start,
                                              std::uint64_t end) {
  FileHasher hasher(algorithm);
  std::vector<std::byte> buf(kHashChunk);
  for (std::uint64_t pos = start; pos < end;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kHashChunk, end - pos));
    auto got = co_await offload([&]() -> Result<std::size_t> {
      const ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(pos));
      if (n < 0) return errno_code(errno);
      hasher.update(std::span<const std::byte>(buf).first(static_cast<std::size_t>(n)));
      return static_cast<std::size_t>(n);
    });
    if (!got) co_return got.error();
    if (*got == 0) co_return errno_code(ESPIPE);  // the file shrank meanwhile: no digest of it
    pos += *got;
  }
  co_return hasher.hex_digest();
}

// OPTS HASH: with no name, which algorithm HASH uses; with one, select it for this session.
Task<void> Session::opts_hash(std::string_view name) {
  if (!name.empty()) {
    auto chosen = ftp::parse_hash_algorithm(name);
    if (!chosen) {
      co_await reply(
          504, "Unknown algorithm; this server has " + hash_feature_list(hash_algorithm_) + ".");
      co_return;
    }
    hash_algorithm_ = *chosen;
  }
  co_await reply(200, std::string(hash_algorithm_name(hash_algorithm_)));
}

}  // namespace muxio::ftpd
