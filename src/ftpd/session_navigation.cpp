// Where the client is and how its paths are found: PWD, CWD and CDUP, and the lookups every
// handler shares (an argument resolved against the current directory, a permission checked, a
// path resolved and stat'ed), each replying its own error.
#include "ftp/vpath.hpp"
#include "ftpd/session.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpd {

Task<std::optional<std::string>> Session::resolve(const std::string& arg) {
  auto path = ftp::resolve_vpath(cwd_, arg);
  // The upload temporaries' prefix is the server's own, for every command: a client could
  // otherwise make files the listings and the quota walk do not see and the start-up sweep
  // deletes, or reach another session's upload in progress. 553: the name is not allowed.
  if (!path || has_reserved_component(*path)) {
    co_await reply(553, "File name not allowed.");
    co_return std::nullopt;
  }
  co_return std::move(*path);
}

Task<bool> Session::require(Permissions p) {
  if (allowed(p)) co_return true;
  co_await reply(550, "Permission denied.");
  co_return false;
}

Task<void> Session::cmd_pwd(const std::string&) {
  co_await reply(257, "\"" + ftp::quote_path(cwd_) + "\" is the current directory.");
}

// The shape of CWD, RNFR, SIZE, MDTM and MLST: resolve the argument and stat it on the offload
// pool. Replies the error itself.
Task<std::optional<Session::Located>> Session::locate(const std::string& arg) {
  auto path = co_await resolve(arg);
  if (!path) co_return std::nullopt;
  auto st = co_await offload([&] { return vfs_.stat(*path); });
  if (!st) {
    co_await reply_error(st.error());
    co_return std::nullopt;
  }
  Located found;  // no braced initialiser: see ARCHITECTURE.md, g++ 12
  found.path = std::move(*path);
  found.st = *st;
  co_return found;
}

Task<void> Session::cmd_cwd(const std::string& arg) {
  const std::string target = arg.empty() ? "/" : arg;  // named: see ARCHITECTURE.md, g++ 12
  auto dir = co_await locate(target);
  if (!dir) co_return;
  if (!S_ISDIR(dir->st.st_mode)) {
    co_await reply(550, "Not a directory.");
    co_return;
  }
  cwd_ = dir->path;
  co_await reply(250, "Directory successfully changed.");
}

Task<void> Session::cmd_cdup(const std::string&) {
  co_await cmd_cwd("..");
}

}  // namespace muxio::ftpd
