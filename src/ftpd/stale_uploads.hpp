// Stale uploads: the hidden temporary files (kTempPrefix, vfs.hpp) of uploads that were in
// progress when a server was killed. No client ever sees them under a real name, but they take
// space and nothing else would remove them; the server sweeps them at start-up, before it accepts
// anyone (so none of them can be an upload of this process).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace muxio::ftpd {

struct StaleUploadSweep {
  std::size_t removed = 0;
  std::size_t failed = 0;   // could not be removed (permissions)
  bool incomplete = false;  // the walk stopped at its bound: some may be left
};

// Walks the tree under dir without following symbolic links, at most max_depth levels deep and
// max_entries entries in all, and removes the regular files named as create_temp names the
// temporaries of `node` (is_temp_name_of, vfs.hpp): temp_prefix(node) and the random suffix.
// With a node name (a cluster sharing dir), only that node's temporaries; without one, only the
// unnamed form, never a named node's (whose names begin with the unnamed prefix too).
StaleUploadSweep remove_stale_uploads(const std::string& dir, std::string_view node = {},
                                      std::size_t max_entries = 1'000'000, int max_depth = 64);

}  // namespace muxio::ftpd
