// Password hashes. New hashes are argon2id (libsodium). Verification also accepts crypt(3) hashes
// ($5$ sha256crypt, $6$ sha512crypt, $y$ yescrypt, $2b$ bcrypt) so that users files can be
// migrated from vsftpd/pure-ftpd setups. Both are slow on purpose: call them off the event loop.
#pragma once

#include <string>
#include <string_view>

namespace muxio::ftpd {

// Must be called once before hashing (initialises libsodium); safe to call again.
bool init_password_hashing();

std::string hash_password(std::string_view password);
bool verify_password(std::string_view password, const std::string& hash);

// Comparison whose time does not depend on where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace muxio::ftpd
