// What muxftp's subcommands and its shell both do with a command line's paths: the jobs a get or
// put makes, where a rename goes, and the two small exchanges they share (rm: a file, else an
// empty directory; the files a remote glob picks). One place, so the two front ends agree.
#pragma once

#include <string>
#include <system_error>
#include <vector>

#include "ftp/listing_parse.hpp"
#include "ftpc/control.hpp"
#include "ftpc/transfer.hpp"

namespace muxio::ftpc {

// A download of `remote` to `local`, labelled with the remote file's name.
Job download_job(std::string remote, std::string local);
// An upload of `local` to `remote`, labelled with the local file's name; its size from stat.
Job upload_job(std::string local, std::string remote);

// The remote path a rename goes to: `to` as given when it holds a '/', else a bare new name in
// the directory of `from` (as `mv /d/a b` means /d/b).
std::string rename_target(std::string_view from, std::string_view to);

// DELE, and when the server answers 550, RMD: the path may be an empty directory. The error is
// the DELE's when both fail (conn.last_reply_line() then has the RMD's reply).
Task<std::error_code> remove_file_or_directory(ControlConnection& conn, std::string path);

// The plain files of directory `dir` whose names match `pattern` (files_matching).
Task<Result<std::vector<ftp::RemoteEntry>>> list_matching(ControlConnection& conn, std::string dir,
                                                          std::string pattern);

}  // namespace muxio::ftpc
