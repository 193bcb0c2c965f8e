#include "ftpc/remote_commands.hpp"

#include <filesystem>

#include "ftpc/client_errors.hpp"
#include "ftpc/remote_listing.hpp"
#include "ftpc/url.hpp"

namespace muxio::ftpc {

Job download_job(std::string remote, std::string local) {
  Job j;
  j.direction = JobKind::get;
  j.label = base_name(remote);
  j.remote = std::move(remote);
  j.local = std::move(local);
  return j;
}

Job upload_job(std::string local, std::string remote) {
  namespace fs = std::filesystem;
  Job j;
  j.direction = JobKind::put;
  j.label = fs::path(local).filename().string();
  std::error_code ec;
  const auto size = fs::file_size(local, ec);
  if (!ec) j.size = size;
  j.local = std::move(local);
  j.remote = std::move(remote);
  return j;
}

std::string rename_target(std::string_view from, std::string_view to) {
  if (to.find('/') != std::string_view::npos) return std::string(to);
  return join_path(split_dir(from).first, to);
}

Task<std::error_code> remove_file_or_directory(ControlConnection& conn, std::string path) {
  std::error_code ec = co_await conn.remove(path);
  if (ec && reply_code_of(ec) == 550) {
    std::error_code as_directory = co_await conn.rmdir(path);
    if (!as_directory) co_return std::error_code{};
  }
  co_return ec;
}

Task<Result<std::vector<ftp::RemoteEntry>>> list_matching(ControlConnection& conn, std::string dir,
                                                          std::string pattern) {
  auto entries = co_await conn.list(dir);
  if (!entries) co_return entries.error();
  co_return files_matching(*entries, pattern);
}

}  // namespace muxio::ftpc
