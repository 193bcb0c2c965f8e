// The digests HASH answers with, checked against the published test vectors of "abc".
#include "ftp/file_hash.hpp"

#include <gtest/gtest.h>

#include <string>

using muxio::ftp::FileHasher;
using muxio::ftp::HashAlgorithm;

namespace {
std::string digest_of(HashAlgorithm a, const std::string& text, std::size_t piece) {
  FileHasher h(a);
  const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
  for (std::size_t i = 0; i < bytes.size(); i += piece)
    h.update(bytes.subspan(i, std::min(piece, bytes.size() - i)));
  return h.hex_digest();
}
}  // namespace

TEST(FileHash, KnownVectorsInAnyPieces) {
  for (std::size_t piece : {1u, 2u, 100u}) {
    EXPECT_EQ(digest_of(HashAlgorithm::sha256, "abc", piece),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(digest_of(HashAlgorithm::sha1, "abc", piece),
              "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(digest_of(HashAlgorithm::md5, "abc", piece), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(digest_of(HashAlgorithm::crc32, "abc", piece), "352441c2");
  }
  EXPECT_EQ(digest_of(HashAlgorithm::crc32, "", 1), "00000000");
}

TEST(FileHash, NamesAndTheFeatureList) {
  EXPECT_EQ(muxio::ftp::parse_hash_algorithm("sha-256"), HashAlgorithm::sha256);
  EXPECT_EQ(muxio::ftp::parse_hash_algorithm("CRC32"), HashAlgorithm::crc32);
  EXPECT_FALSE(muxio::ftp::parse_hash_algorithm("SHA256").has_value());
  EXPECT_FALSE(muxio::ftp::parse_hash_algorithm("").has_value());
  EXPECT_EQ(muxio::ftp::hash_feature_list(HashAlgorithm::md5), "SHA-256;SHA-1;MD5*;CRC32");
}
