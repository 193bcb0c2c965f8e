// The digests the HASH command offers (draft-bryan-ftpext-hash-02) and the legacy XSHA256,
// XSHA1, XMD5 and XCRC commands: SHA-256 (the default), SHA-1 and MD5 by OpenSSL, CRC32 by zlib.
// Pure computation over bytes, shared by the server (HASH) and the client (--verify); its own
// library (ftp_digest), so that the protocol layer and its fuzzers need no OpenSSL.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace muxio::ftp {

enum class HashAlgorithm { sha256, sha1, md5, crc32 };

// "SHA-256", "sha-1", "MD5", "CRC32": the names FEAT and OPTS HASH use, any case.
std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name);
std::string_view hash_algorithm_name(HashAlgorithm a);
// The FEAT line's list: every algorithm, the selected one marked '*' ("SHA-256*;SHA-1;MD5;CRC32").
std::string hash_feature_list(HashAlgorithm selected);

class FileHasher {
 public:
  explicit FileHasher(HashAlgorithm a);
  void update(std::span<const std::byte> bytes);
  std::string hex_digest();  // lowercase hex; call once, at the end

 private:
  struct FreeContext {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, FreeContext> md_;  // null for CRC32
  std::uint32_t crc_ = 0;
};

}  // namespace muxio::ftp
