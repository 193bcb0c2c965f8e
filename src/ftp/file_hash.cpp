#include "ftp/file_hash.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace muxio::ftp {

namespace {

struct Named {
  HashAlgorithm algorithm;
  std::string_view name;
};
constexpr std::array<Named, 4> kAlgorithms = {{
    {HashAlgorithm::sha256, "SHA-256"},
    {HashAlgorithm::sha1, "SHA-1"},
    {HashAlgorithm::md5, "MD5"},
    {HashAlgorithm::crc32, "CRC32"},
}};

const EVP_MD* digest_of(HashAlgorithm a) {
  switch (a) {
    case HashAlgorithm::sha256:
      return EVP_sha256();
    case HashAlgorithm::sha1:
      return EVP_sha1();
    case HashAlgorithm::md5:
      return EVP_md5();
    case HashAlgorithm::crc32:
      break;
  }
  return nullptr;
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name) {
  for (const auto& known : kAlgorithms) {
    if (name.size() != known.name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size(); ++i) {
      same = same && std::toupper(static_cast<unsigned char>(name[i])) == known.name[i];
    }
    if (same) return known.algorithm;
  }
  return std::nullopt;
}

std::string_view hash_algorithm_name(HashAlgorithm a) {
  for (const auto& known : kAlgorithms) {
    if (known.algorithm == a) return known.name;
  }
  return "?";
}

std::string hash_feature_list(HashAlgorithm selected) {
  std::string out;
  for (const auto& known : kAlgorithms) {
    if (!out.empty()) out += ';';
    out += known.name;
    if (known.algorithm == selected) out += '*';
  }
  return out;
}

FileHasher::FileHasher(HashAlgorithm a) {
  if (const EVP_MD* md = digest_of(a)) {
    md_.reset(EVP_MD_CTX_new());
    if (!md_ || EVP_DigestInit_ex(md_.get(), md, nullptr) != 1) {
      throw std::runtime_error("OpenSSL cannot start a digest");
    }
  } else {
    crc_ = static_cast<std::uint32_t>(::crc32(0L, Z_NULL, 0));
  }
}

void FileHasher::update(std::span<const std::byte> bytes) {
  if (md_) {
    EVP_DigestUpdate(md_.get(), bytes.data(), bytes.size());
    return;
  }
  // zlib takes a uInt length: feed large spans in pieces.
  while (!bytes.empty()) {
    const std::size_t n = std::min<std::size_t>(bytes.size(), 1u << 30);
    crc_ = static_cast<std::uint32_t>(
        ::crc32(crc_, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n)));
    bytes = bytes.subspan(n);
  }
}

std::string FileHasher::hex_digest() {
  if (md_) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int n = 0;
    EVP_DigestFinal_ex(md_.get(), out.data(), &n);
    md_.reset();
    return to_hex(out.data(), n);
  }
  char text[9];
  std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(crc_));
  return text;
}

}  // namespace muxio::ftp
