#include "ftpd/stale_uploads.hpp"

#include <filesystem>

#include "ftpd/vfs.hpp"

namespace muxio::ftpd {

namespace fs = std::filesystem;

StaleUploadSweep remove_stale_uploads(const std::string& dir, std::string_view node,
                                      std::size_t max_entries, int max_depth) {
  StaleUploadSweep sweep;
  std::error_code ec;
  // Symbolic links are listed, never followed: the sweep stays inside dir.
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  std::size_t seen = 0;
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (++seen > max_entries) {
      sweep.incomplete = true;
      break;
    }
    if (it.depth() >= max_depth) {
      it.disable_recursion_pending();
      sweep.incomplete = true;
    }
    const fs::path& path = it->path();
    if (!is_temp_name_of(path.filename().native(), node)) continue;
    std::error_code status_error;
    if (!fs::is_regular_file(it->symlink_status(status_error))) continue;
    std::error_code remove_error;
    if (fs::remove(path, remove_error)) {
      ++sweep.removed;
    } else {
      ++sweep.failed;
    }
  }
  if (ec && seen > 0) sweep.incomplete = true;  // a directory vanished or could not be read
  return sweep;
}

}  // namespace muxio::ftpd
