#include "ftpd/password.hpp"

#include <crypt.h>
#include <sodium.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace muxio::ftpd {

bool init_password_hashing() {
  return sodium_init() >= 0;
}

std::string hash_password(std::string_view password) {
  init_password_hashing();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    throw std::runtime_error("argon2id hashing failed (out of memory)");
  }
  return out;
}

bool verify_password(std::string_view password, const std::string& hash) {
  init_password_hashing();
  if (hash.rfind("$argon2", 0) == 0) {
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  }
  if (hash.size() < 3 || hash[0] != '$') return false;  // no DES crypt, no plain text
  // crypt_r needs a NUL-terminated password; a password with a NUL byte cannot match.
  if (password.find('\0') != std::string_view::npos) return false;
  std::string pw(password);
  auto data = std::make_unique<crypt_data>();
  const char* result = crypt_r(pw.c_str(), hash.c_str(), data.get());
  sodium_memzero(pw.data(), pw.size());
  if (result == nullptr || result[0] == '*') return false;  // '*': crypt's failure token
  return constant_time_equal(result, hash);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace muxio::ftpd
