#include "ftpc/verify.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <array>
#include <string_view>
#include <vector>

#include "ftp/file_hash.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpc {

namespace {

// Blocking (offload pool): the digest of a local file.
Result<std::string> hash_local_file_on_this_thread(const std::string& path,
                                                   ftp::HashAlgorithm algorithm) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_code(errno);
  ftp::FileHasher hasher(algorithm);
  std::vector<std::byte> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      ::close(fd);
      return errno_code(saved);
    }
    if (n == 0) break;
    hasher.update(std::span<const std::byte>(buf).first(static_cast<std::size_t>(n)));
  }
  ::close(fd);
  return hasher.hex_digest();
}

// OpenSSL keeps state per thread, freed when the thread ends; a pool thread may still be running
// when the process exits, and LeakSanitizer then reports that state. Freed after each use.
Result<std::string> hash_local_file(const std::string& path, ftp::HashAlgorithm algorithm) {
  auto digest = hash_local_file_on_this_thread(path, algorithm);
  OPENSSL_thread_stop();
  return digest;
}

Result<std::uint64_t> local_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) return errno_code(errno);
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace

std::string strongest_hash(const ControlConnection& conn) {
  auto feature = conn.features().find("HASH");
  if (feature == conn.features().end()) return {};
  const std::string& offered = feature->second;
  static constexpr std::array<std::string_view, 4> kPreference = {"SHA-256", "SHA-1", "MD5",
                                                                  "CRC32"};
  for (std::string_view name : kPreference) {
    std::string_view rest = offered;
    while (!rest.empty()) {
      const auto semicolon = rest.find(';');
      std::string_view item = rest.substr(0, semicolon);
      if (!item.empty() && item.back() == '*') item.remove_suffix(1);
      if (ftp::parse_hash_algorithm(item) == ftp::parse_hash_algorithm(name)) {
        return std::string(name);
      }
      rest.remove_prefix(semicolon == std::string_view::npos ? rest.size() : semicolon + 1);
    }
  }
  return {};
}

Task<Result<std::string>> verify_copy(ControlConnection& conn, std::string remote,
                                      std::string local) {
  auto size = local_size(local);
  if (!size) co_return size.error();
  const std::string name = strongest_hash(conn);
  if (!name.empty()) {
    auto theirs = co_await conn.hash(remote, name);
    if (theirs) {
      const auto algorithm = *ftp::parse_hash_algorithm(name);
      auto ours = co_await offload([&] { return hash_local_file(local, algorithm); });
      if (!ours) co_return ours.error();
      if (theirs->start != 0 || theirs->end != *size || theirs->digest != *ours) {
        co_return make_error_code(ClientError::verify_mismatch);
      }
      co_return name;
    }
    if (!conn.usable()) co_return theirs.error();
    // Refused (too large to hash there, a permission): SIZE is still a check.
  }
  auto remote_size = co_await conn.size(remote);
  if (!remote_size) co_return remote_size.error();
  if (*remote_size != *size) co_return make_error_code(ClientError::verify_mismatch);
  co_return std::string("SIZE");
}

}  // namespace muxio::ftpc
