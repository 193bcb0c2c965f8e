// Virtual paths: what a client names, resolved against its working directory into one canonical
// absolute string. This is only the string half of confinement: ".." can never climb above "/"
// here, and the filesystem layer later opens the result with openat2(RESOLVE_IN_ROOT) under the
// user's root, so symlinks cannot escape either.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "muxio/result.hpp"

namespace muxio::ftp {

// Longest path component accepted (NAME_MAX on Linux).
inline constexpr std::size_t kMaxComponent = 255;

// Resolves `arg` (absolute "/a/b" or relative to `cwd`, which is always an absolute normalised
// virtual path) into an absolute normalised virtual path: collapses "//", ".", ".."; ".." at the
// root stays at the root (chroot semantics); the result never ends with "/" except "/" itself.
// Refuses (errc::invalid_argument) NUL bytes in either input, and (errc::filename_too_long) a
// result longer than max_len bytes or any component longer than 255 bytes. Empty arg -> cwd.
// Only '/' separates components; every other byte (backslash, '~', UTF-8) is part of a name.
muxio::Result<std::string> resolve_vpath(std::string_view cwd, std::string_view arg,
                                         std::size_t max_len = 4096);

// "/a/b/c" -> "a/b/c" (relative to the user's root, for openat2); "/" -> ".".
std::string to_relative(std::string_view vpath);

// Quoting for the 257 reply (RFC 959 appendix II): embedded '"' doubled. Add the enclosing quotes
// yourself: "257 \"" + quote_path(p) + "\" created".
std::string quote_path(std::string_view vpath);

}  // namespace muxio::ftp
