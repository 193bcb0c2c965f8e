// What the client does with a directory listing: the lines `ls` prints, and the files a glob
// picks for mget. Pure functions, shared by muxftp's subcommands and its shell.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ftp/listing_parse.hpp"

namespace muxio::ftpc {

// One line per entry, sorted by name: the size (blank for a directory), the time in UTC, the name
// ('/' after a directory; control characters shown as '?').
//   "        1234  2025-11-23 12:34  notes.txt"
std::string format_listing(std::vector<ftp::RemoteEntry> entries);

// The plain files whose names match `pattern` (glob_match), sorted by name. Names no honest
// server sends ("." "..", or holding a '/') are skipped: they would escape the local directory.
std::vector<ftp::RemoteEntry> files_matching(const std::vector<ftp::RemoteEntry>& entries,
                                             std::string_view pattern);

}  // namespace muxio::ftpc
