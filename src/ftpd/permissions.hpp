// What a user may do. Written in users files and --user flags as letters:
//   l list   r read (download)   w write (upload, append)   d delete   n rename   m mkdir/rmdir
// "ro" is shorthand for "lr", "all" for "lrwdnm".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace muxio::ftpd {

enum Permission : std::uint8_t {
  kList = 1 << 0,
  kRead = 1 << 1,
  kWrite = 1 << 2,
  kDelete = 1 << 3,
  kRename = 1 << 4,
  kMkdir = 1 << 5,
};

using Permissions = std::uint8_t;
inline constexpr Permissions kReadOnly = kList | kRead;
inline constexpr Permissions kAllPermissions = kList | kRead | kWrite | kDelete | kRename | kMkdir;

std::optional<Permissions> parse_permissions(std::string_view s);
std::string permissions_to_string(Permissions p);

}  // namespace muxio::ftpd
