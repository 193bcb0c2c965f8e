#include "ftpd/permissions.hpp"

namespace muxio::ftpd {
namespace {

struct Letter {
  char c;
  Permission p;
};
constexpr Letter kLetters[] = {{'l', kList},   {'r', kRead},   {'w', kWrite},
                               {'d', kDelete}, {'n', kRename}, {'m', kMkdir}};

}  // namespace

std::optional<Permissions> parse_permissions(std::string_view s) {
  if (s == "ro") return kReadOnly;
  if (s == "all" || s == "rw") return kAllPermissions;
  Permissions p = 0;
  for (char c : s) {
    bool known = false;
    for (const auto& l : kLetters) {
      if (l.c == c) {
        p |= l.p;
        known = true;
      }
    }
    if (!known) return std::nullopt;
  }
  return p;
}

std::string permissions_to_string(Permissions p) {
  std::string s;
  for (const auto& l : kLetters) {
    if (p & l.p) s += l.c;
  }
  return s;
}

}  // namespace muxio::ftpd
