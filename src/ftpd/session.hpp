// Session: one FTP control connection, from greeting to QUIT, as a coroutine that reads top to
// bottom: read a command, dispatch it, reply.
//
// A transfer (RETR, STOR, LIST, ...) runs as a task of its own, so the control connection keeps
// being read while it runs: NOOP and STAT are answered at once, ABOR cancels it (426 from the
// transfer, then 226), and any other command waits until the transfer has finished, as if the
// client had waited for the 226. Replies from both tasks are serialised by an AsyncMutex.
// Disk work runs on the offload pool. Owned by the task that runs it; loop thread only.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>

#include "ftp/command.hpp"
#include "ftp/line_reader.hpp"
#include "ftpd/data_channel.hpp"
#include "ftpd/server_context.hpp"
#include "ftpd/vfs.hpp"
#include "muxio/async_mutex.hpp"
#include "muxio/tcp_stream.hpp"

namespace muxio::ftpd {

class Session {
 public:
  Session(EventLoop& loop, ServerContext& server, TcpStream control, SocketAddress peer);
  ~Session();

  Task<void> run();

 private:
  using Handler = Task<void> (Session::*)(const std::string& arg);
  struct CommandSpec {
    std::string_view verb;
    Handler handler;
    bool needs_login;
    bool during_transfer;  // may run while a transfer is in progress
  };
  static const CommandSpec* find_command(std::string_view verb);

  // Control connection.
  Task<std::optional<std::string>> read_command_line();
  Task<void> reply(int code, std::string_view text);
  Task<void> reply_lines(int code, std::string_view first, const std::vector<std::string>& body,
                         std::string_view last);
  Task<void> reply_error(std::error_code ec);
  Task<void> dispatch(const std::string& line);
  void log(const std::string& message) const;

  // Paths: the argument resolved against the current directory; replies 553 itself on failure.
  Task<std::optional<std::string>> resolve(const std::string& arg);
  bool allowed(Permissions p) const { return (permissions_ & p) == p; }
  Task<bool> require(Permissions p);
  struct Located {
    std::string path;
    struct stat st;
  };
  Task<std::optional<Located>> locate(const std::string& arg);
  using NameOp = std::error_code (Vfs::*)(std::string_view) const;
  Task<std::optional<std::string>> change_name(Permissions p, const std::string& arg, NameOp op,
                                               const char* what);

  // Access control and session state (session_commands.cpp).
  Task<void> cmd_user(const std::string& arg);
  Task<void> cmd_pass(const std::string& arg);
  Task<void> cmd_quit(const std::string& arg);
  Task<void> cmd_noop(const std::string& arg);
  Task<void> cmd_syst(const std::string& arg);
  Task<void> cmd_feat(const std::string& arg);
  Task<void> cmd_opts(const std::string& arg);
  Task<void> cmd_help(const std::string& arg);
  Task<void> cmd_stat(const std::string& arg);
  Task<void> cmd_type(const std::string& arg);
  Task<void> cmd_mode(const std::string& arg);
  Task<void> cmd_stru(const std::string& arg);
  Task<void> cmd_allo(const std::string& arg);
  Task<void> cmd_rest(const std::string& arg);
  Task<void> cmd_abor(const std::string& arg);
  Task<void> cmd_pasv(const std::string& arg);
  Task<void> cmd_epsv(const std::string& arg);
  Task<void> cmd_port(const std::string& arg);
  Task<void> cmd_eprt(const std::string& arg);

  // The file system (session_files.cpp).
  Task<void> cmd_pwd(const std::string& arg);
  Task<void> cmd_cwd(const std::string& arg);
  Task<void> cmd_cdup(const std::string& arg);
  Task<void> cmd_mkd(const std::string& arg);
  Task<void> cmd_rmd(const std::string& arg);
  Task<void> cmd_dele(const std::string& arg);
  Task<void> cmd_rnfr(const std::string& arg);
  Task<void> cmd_rnto(const std::string& arg);
  Task<void> cmd_size(const std::string& arg);
  Task<void> cmd_mdtm(const std::string& arg);
  Task<void> cmd_mfmt(const std::string& arg);
  Task<void> cmd_mlst(const std::string& arg);
  Task<void> stat_path(const std::string& arg);  // STAT with an argument: a listing on control

  // Transfers (session_transfer.cpp).
  Task<void> cmd_retr(const std::string& arg);
  Task<void> cmd_stor(const std::string& arg);
  Task<void> cmd_stou(const std::string& arg);
  Task<void> cmd_appe(const std::string& arg);
  Task<void> cmd_list(const std::string& arg);
  Task<void> cmd_nlst(const std::string& arg);
  Task<void> cmd_mlsd(const std::string& arg);

  enum class StoreMode { replace, append, unique };
  Task<void> start_store(const std::string& arg, StoreMode mode);
  Task<void> start_listing(const std::string& arg, int kind);
  // The transfer tasks. Each opens the data connection, replies 150, moves the bytes, replies
  // 226 (or 425/426/451/452), logs an xferlog line.
  Task<void> send_file(UniqueFd file, std::string path, std::uint64_t offset, std::uint64_t size);
  Task<void> receive_file(UniqueFd file, std::optional<TempFile> temp, std::string path,
                          std::string reply_name);
  Task<void> send_listing(std::string text, std::string what);
  void start_transfer(Task<void> transfer);
  std::string unique_upload_name() const;
  Result<UniqueFd> open_in_place(const std::string& path, bool append, std::uint64_t offset) const;
  Task<std::optional<TcpStream>> open_data_connection();
  void record_transfer(const std::string& path, std::uint64_t bytes, bool upload, bool complete,
                       TimePoint started);
  std::string mlsx_perm(const ftp::FileFacts& f) const;
  void watch_transfer_progress(std::uint64_t& counter);

  EventLoop& loop_;
  ServerContext& server_;
  TcpStream control_;
  SocketAddress peer_;
  std::uint64_t id_;
  ftp::LineReader reader_;
  AsyncMutex reply_mutex_;
  DataChannel data_;

  // Login state.
  std::string pending_user_;
  const User* user_ = nullptr;
  std::string user_name_;
  bool logged_in_ = false;
  Permissions permissions_ = 0;
  Vfs vfs_;
  std::string cwd_ = "/";

  // Transfer parameters.
  bool binary_ = false;  // RFC 959's default is ASCII
  std::uint64_t restart_offset_ = 0;
  bool epsv_all_ = false;
  std::optional<std::string> rename_from_;

  TaskHandle transfer_;
  std::uint64_t transfer_bytes_ = 0;
  std::string transfer_what_;
  bool quitting_ = false;
};

}  // namespace muxio::ftpd
