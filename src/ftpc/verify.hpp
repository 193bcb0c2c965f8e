// --verify: after a transfer, checks that the copy here and the file on the server are the same.
// With the server's HASH when it has one (the strongest it offers: SHA-256, then SHA-1, MD5,
// CRC32), the local file hashed on the offload pool; else with SIZE, which catches a short copy
// but not a changed byte. The caller says which was used, so the user knows what was checked.
#pragma once

#include <string>

#include "ftpc/control.hpp"

namespace muxio::ftpc {

// The algorithm to ask for, from FEAT's "HASH SHA-256*;SHA-1;MD5;CRC32"; empty when the server
// has no HASH or none that we know.
std::string strongest_hash(const ControlConnection& conn);

// What checked the copy ("SHA-256", "SIZE"), or the error: ClientError::verify_mismatch when the
// two differ, the server's refusal when it can neither hash nor tell the size.
Task<Result<std::string>> verify_copy(ControlConnection& conn, std::string remote,
                                      std::string local);

}  // namespace muxio::ftpc
