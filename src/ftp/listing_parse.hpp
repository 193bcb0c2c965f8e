// Parsing directory listings as a client receives them: MLSD lines (RFC 3659 facts, exact) and
// LIST lines (the `ls -l` form most Unix servers send, and the MS-DOS form of IIS). LIST has no
// standard: what cannot be understood is reported as such, never guessed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ftp/listing.hpp"

namespace muxio::ftp {

struct RemoteEntry {
  std::string name;
  FileType type = FileType::other;
  std::optional<std::uint64_t> size;
  std::optional<std::int64_t> mtime;  // unix seconds UTC
  std::string link_target;            // LIST "name -> target"
};

// "type=file;size=12;modify=20261123123456; name". Returns nullopt for a line without facts and a
// name, and for the cdir/pdir entries ("." and the parent), which a listing should not show.
std::optional<RemoteEntry> parse_mlsx_line(std::string_view line);

// "-rw-r--r--   1 owner group  1234 Nov 23 12:34 name" or "Nov 23  2025"; times without a year
// are placed in the year that makes them not later than `now` + one day (as ls prints them).
// "total N" and unparseable lines: nullopt. Also "11-23-25  12:34PM  <DIR>  name" (MS-DOS).
std::optional<RemoteEntry> parse_list_line(std::string_view line, std::int64_t now);

}  // namespace muxio::ftp
