// Changes to files and their facts: MKD, RMD, DELE, RNFR and RNTO (each invalidating the
// user's measured quota usage), SIZE, MDTM, MFMT and MLST.
#include "ftp/listing.hpp"
#include "ftp/time_format.hpp"
#include "ftp/vpath.hpp"
#include "ftpd/session.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpd {

// The shape of MKD, RMD and DELE: a permission, a path, one Vfs call on the offload pool, a log
// line. Replies the error itself; returns the path when the call succeeded.
Task<std::optional<std::string>> Session::change_name(Permissions p, const std::string& arg,
                                                      NameOp op, const char* what) {
  bool allowed = co_await require(p);
  if (!allowed) co_return std::nullopt;
  auto path = co_await resolve(arg);
  if (!path) co_return std::nullopt;
  if (auto ec = co_await offload([&] { return (vfs_.*op)(*path); })) {
    co_await reply_error(ec);
    co_return std::nullopt;
  }
  log(std::string(what) + " " + *path);
  quota_changed();  // a delete frees quota; measure again before an upload
  co_return path;
}

Task<void> Session::cmd_mkd(const std::string& arg) {
  auto path = co_await change_name(kMkdir, arg, &Vfs::mkdir, "mkdir");
  if (path) co_await reply(257, "\"" + ftp::quote_path(*path) + "\" created.");
}

Task<void> Session::cmd_rmd(const std::string& arg) {
  auto path = co_await change_name(kMkdir, arg, &Vfs::rmdir, "rmdir");
  if (path) co_await reply(250, "Directory removed.");
}

Task<void> Session::cmd_dele(const std::string& arg) {
  auto path = co_await change_name(kDelete, arg, &Vfs::unlink, "delete");
  if (path) co_await reply(250, "File deleted.");
}

Task<void> Session::cmd_rnfr(const std::string& arg) {
  rename_from_.reset();  // a failed RNFR must not leave an earlier one armed
  bool allowed = co_await require(kRename);
  if (!allowed) co_return;
  auto from = co_await locate(arg);
  if (!from) co_return;
  rename_from_ = from->path;
  co_await reply(350, "Ready for RNTO.");
}

Task<void> Session::cmd_rnto(const std::string& arg) {
  if (!rename_from_) {
    co_await reply(503, "RNFR required first.");
    co_return;
  }
  std::string from = std::exchange(rename_from_, std::nullopt).value();
  auto to = co_await resolve(arg);
  if (!to) co_return;
  if (auto ec = co_await offload([&] { return vfs_.rename(from, *to); })) {
    co_await reply_error(ec);
    co_return;
  }
  log("rename " + from + " -> " + *to);
  quota_changed();  // a rename over a file frees quota
  co_await reply(250, "Rename successful.");
}

Task<void> Session::cmd_size(const std::string& arg) {
  auto file = co_await locate(arg);
  if (!file) co_return;
  if (!S_ISREG(file->st.st_mode)) {
    co_await reply(550, "Not a regular file.");
    co_return;
  }
  co_await reply(213, std::to_string(file->st.st_size));
}

Task<void> Session::cmd_mdtm(const std::string& arg) {
  auto file = co_await locate(arg);
  if (file) co_await reply(213, ftp::format_mdtm(file->st.st_mtim.tv_sec));
}

Task<void> Session::cmd_mfmt(const std::string& arg) {
  bool allowed = co_await require(kWrite);
  if (!allowed) co_return;
  auto space = arg.find(' ');
  auto when = space == std::string::npos ? std::nullopt : ftp::parse_mdtm(arg.substr(0, space));
  if (!when) {
    co_await reply(501, "MFMT needs YYYYMMDDHHMMSS and a path.");
    co_return;
  }
  auto path = co_await resolve(arg.substr(space + 1));
  if (!path) co_return;
  if (auto ec = co_await offload([&] { return vfs_.set_mtime(*path, *when); })) {
    co_await reply_error(ec);
    co_return;
  }
  co_await reply(213, "Modify=" + ftp::format_mdtm(*when) + "; " + *path);
}

Task<void> Session::cmd_mlst(const std::string& arg) {
  auto entry = co_await locate(arg);
  if (!entry) co_return;
  // RFC 3659: the entry's line starts with a space and carries the path as given back.
  auto facts = Vfs::facts_of(entry->st, entry->path);
  std::vector<std::string> body;
  body.push_back(" " + ftp::format_mlsx_line(facts, mlsx_perm(facts), {}, mlst_facts_));
  co_await reply_lines(250, "Listing " + entry->path, body, "End");
}

void Session::quota_changed() {
  if (quota_) quota_->invalidate();
  if (server_.cluster && quota_limits_.any()) server_.cluster->quota_invalidate(user_name_);
}

}  // namespace muxio::ftpd
