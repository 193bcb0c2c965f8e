// Session: one FTP control connection, from greeting to QUIT, as a coroutine that reads top to
// bottom: read a command, dispatch it, reply.
//
// A transfer (RETR, STOR, LIST, ...) is a Transfer (transfer.hpp) that the session owns and ends
// before it goes; it runs as a task of its own, so the control connection keeps being read while
// it runs: NOOP and STAT are answered at once, ABOR cancels it (426 from the transfer, then 226),
// and any other command waits until the transfer has finished, as if the client had waited for
// the 226. The transfer reaches the session only through TransferHost (replies, the data
// connection, the log). Replies from both tasks are serialised by an AsyncMutex. Disk work runs
// on the offload pool. Owned by the task that runs it; loop thread only.
//
// The handlers, one concern per file: session.cpp the control loop, replies and dispatch;
// session_auth.cpp login and logout; session_options.cpp the session's parameters and what the
// server says about itself; session_navigation.cpp the current directory and path lookups;
// session_files.cpp changes to files and their facts; session_listing.cpp listings;
// session_transfer.cpp the data connection's set-up and the commands that start transfers (with
// the upload's quota reservation); session_tls.cpp FTPS; session_hash.cpp digests;
// session_events.cpp structured log events.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>

#include "ftp/command.hpp"
#include "ftp/file_hash.hpp"
#include "ftp/line_reader.hpp"
#include "ftpd/data_channel.hpp"
#include "ftpd/data_connection.hpp"
#include "ftpd/json_log.hpp"
#include "ftpd/server_context.hpp"
#include "ftpd/transfer.hpp"
#include "ftpd/vfs.hpp"
#include "muxio/async_mutex.hpp"
#include "muxio/tcp_stream.hpp"
#include "muxio/tls_stream.hpp"

namespace muxio::ftpd {

class Session : private TransferHost {
 public:
  Session(EventLoop& loop, ServerContext& server, TcpStream control, SocketAddress peer);
  ~Session();

  Task<void> run();
  // For a connection to an implicit-TLS listener: TLS starts before the greeting, and data
  // connections are protected from the start. Call before run().
  void start_with_tls() { implicit_tls_ = true; }
  // For a connection through a PROXY protocol balancer: the address the client connected to,
  // which PASV advertises when no passive_address is configured. Call before run().
  void set_proxy_destination(const SocketAddress& a) { proxy_destination_ = a; }
  // The server is shutting down (ServerContext::shutting_down is set): a session idle between
  // commands ends now with 421; one with a transfer running lets it finish first (the server
  // cancels it when the grace period ends). Loop thread only.
  void shut_down();
  // The shutdown grace period is over: a reply the client is not reading ends the session now,
  // and the goodbye replies that follow get only a moment each. Loop thread only.
  void end_grace();

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
  Stream& control() { return control_tls_ ? static_cast<Stream&>(*control_tls_) : control_tcp_; }
  TcpStream& control_socket() { return control_tls_ ? control_tls_->transport() : control_tcp_; }
  Task<std::optional<std::string>> read_command_line();
  Task<void> reply(int code, std::string_view text) override;
  Task<void> reply_lines(int code, std::string_view first, const std::vector<std::string>& body,
                         std::string_view last);
  Task<void> reply_error(std::error_code ec);
  // Every control write goes through here, bounded (session.cpp): a client that does not read
  // its replies cannot hold the session, not even in a shielded reply, whose socket is shut
  // down instead.
  Task<void> send_reply(std::string wire);
  Duration reply_write_bound() const;
  void cut_control(const char* why);
  Task<void> dispatch(const std::string& line);
  void log(const std::string& message) const override;
  // A session event: a JSON object under log_format = "json" (json_log.hpp), else `text` as
  // log() writes it (session_events.cpp).
  void log_event(SessionEvent e, const std::string& text) const override;
  bool json_logs() const { return server_.config.log_format == "json"; }
  TimePoint connected_at_ = Clock::now();

  // Login and logout (session_auth.cpp).
  Task<void> cmd_user(const std::string& arg);
  Task<void> cmd_pass(const std::string& arg);
  Task<void> cmd_quit(const std::string& arg);
  // "anonymous" or "ftp" on a server that allows anonymous logins.
  bool is_anonymous_login(std::string_view name) const;

  // The session's parameters and what the server says about itself (session_options.cpp).
  std::vector<std::string> feature_lines() const;  // FEAT, as this session's options stand
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

  // The current directory and path lookups (session_navigation.cpp).
  // Paths: the argument resolved against the current directory; replies 553 itself on failure.
  Task<std::optional<std::string>> resolve(const std::string& arg);
  bool allowed(Permissions p) const { return (permissions_ & p) == p; }
  Task<bool> require(Permissions p);
  struct Located {
    std::string path;
    struct stat st;
  };
  Task<std::optional<Located>> locate(const std::string& arg);
  Task<void> cmd_pwd(const std::string& arg);
  Task<void> cmd_cwd(const std::string& arg);
  Task<void> cmd_cdup(const std::string& arg);

  // FTPS, RFC 4217 (session_tls.cpp).
  Task<void> cmd_auth(const std::string& arg);
  Task<void> cmd_pbsz(const std::string& arg);
  Task<void> cmd_prot(const std::string& arg);
  Task<void> cmd_ccc(const std::string& arg);
  Task<bool> start_control_tls();
  bool tls_required_for(std::string_view user) const;
  // Replies 521/522 itself when the data connection must be or could not be secured.
  Task<bool> secure_data_connection(DataConnection& conn);
  void offer_fresh_tls_session();  // a new TLS 1.3 ticket with the next control reply
  bool upload_cut_short(DataConnection& conn) override;  // TLS data ended without close_notify

  // Changes to files and their facts (session_files.cpp).
  using NameOp = std::error_code (Vfs::*)(std::string_view) const;
  Task<std::optional<std::string>> change_name(Permissions p, const std::string& arg, NameOp op,
                                               const char* what);
  Task<void> cmd_mkd(const std::string& arg);
  Task<void> cmd_rmd(const std::string& arg);
  Task<void> cmd_dele(const std::string& arg);
  Task<void> cmd_rnfr(const std::string& arg);
  Task<void> cmd_rnto(const std::string& arg);
  Task<void> cmd_size(const std::string& arg);
  Task<void> cmd_mdtm(const std::string& arg);
  Task<void> cmd_mfmt(const std::string& arg);
  Task<void> cmd_mlst(const std::string& arg);

  // Listings (session_listing.cpp).
  Task<void> cmd_list(const std::string& arg);
  Task<void> cmd_nlst(const std::string& arg);
  Task<void> cmd_mlsd(const std::string& arg);
  Task<void> start_listing(const std::string& arg, int kind);
  Task<void> start_name_listing(const std::string& path);
  Task<void> start_glob_listing(const std::string& target, int kind);
  // One line per entry: kind 0 LIST, 1 NLST, 2 MLSD.
  std::string listing_text(const std::vector<ftp::FileFacts>& entries, int kind) const;
  static constexpr std::size_t kMaxGlobMatches = 10000;
  std::string mlsx_perm(const ftp::FileFacts& f) const;
  Task<void> stat_path(const std::string& arg);  // STAT with an argument: a listing on control

  // Digests of files: HASH and the legacy X* forms (session_hash.cpp).
  struct HashRequest {
    std::string path;  // as the client gave it (the 213 reply repeats it)
    ftp::HashAlgorithm algorithm = ftp::HashAlgorithm::sha256;
    std::uint64_t start = 0;
    std::optional<std::uint64_t> end;  // exclusive; the file's end when absent
    bool legacy = false;               // XSHA256/XSHA1/XMD5/XCRC: "250 <hex>"
  };
  Task<void> cmd_hash(const std::string& arg);
  Task<void> cmd_xsha256(const std::string& arg);
  Task<void> cmd_xsha1(const std::string& arg);
  Task<void> cmd_xmd5(const std::string& arg);
  Task<void> cmd_xcrc(const std::string& arg);
  Task<void> legacy_hash(const std::string& arg, ftp::HashAlgorithm algorithm);
  Task<void> answer_hash(HashRequest request);
  Task<Result<std::string>> hash_range(int fd, ftp::HashAlgorithm algorithm, std::uint64_t start,
                                       std::uint64_t end);
  Task<void> opts_hash(std::string_view name);

  // The data connection's set-up and the commands that start transfers (session_transfer.cpp).
  Task<void> cmd_pasv(const std::string& arg);
  Task<void> cmd_epsv(const std::string& arg);
  Task<void> cmd_port(const std::string& arg);
  Task<void> cmd_eprt(const std::string& arg);
  Task<void> cmd_abor(const std::string& arg);
  Task<void> cmd_retr(const std::string& arg);
  Task<void> cmd_stor(const std::string& arg);
  Task<void> cmd_stou(const std::string& arg);
  Task<void> cmd_appe(const std::string& arg);
  enum class StoreMode { replace, append, unique };
  Task<void> start_store(const std::string& arg, StoreMode mode);
  std::string unique_upload_name() const;
  Result<UniqueFd> open_in_place(const std::string& path, bool append, std::uint64_t offset) const;
  // Opens the data connection, replies 150 with `opening`, and shakes hands over it under
  // PROT P; on failure it has replied (425/426/522) and returns nothing. For the Transfer.
  Task<std::optional<DataConnection>> open_data_connection(std::string opening) override;
  // A transfer of this session, which it owns (transfer_); the caller starts it.
  Transfer& new_transfer(std::string what);
  bool transfer_running() const { return transfer_ && transfer_->running(); }

  EventLoop& loop_;
  ServerContext& server_;
  // This session's settings, taken at connect: a SIGHUP reload applies to later sessions.
  std::shared_ptr<const ServerConfig> settings_;
  std::unordered_set<Session*>* siblings_ = nullptr;  // the sessions of this loop (shutdown)
  TaskContext* run_context_ = nullptr;                // the task of run(), for shut_down()
  bool waiting_for_command_ = false;                  // idle between commands
  TcpStream control_tcp_;
  std::unique_ptr<TlsStream> control_tls_;  // after AUTH TLS, over control_tcp_'s connection
  SocketAddress peer_;
  std::optional<SocketAddress> proxy_destination_;
  std::uint64_t id_;
  ftp::LineReader reader_;
  AsyncMutex reply_mutex_;
  bool writing_reply_ = false;  // a reply is being written (end_grace cuts it)
  bool control_cut_ = false;    // the control socket was shut down: nothing more is written
  bool grace_over_ = false;     // the server's shutdown grace period has ended
  DataChannel data_;

  // Login state.
  std::string pending_user_;
  // The session's own copy, made at login: a reload of the users file may drop or change the
  // entry it came from while the session goes on.
  std::shared_ptr<const User> user_;
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
  unsigned mlst_facts_ = ftp::kAllMlstFacts;                        // OPTS MLST
  ftp::HashAlgorithm hash_algorithm_ = ftp::HashAlgorithm::sha256;  // OPTS HASH
  std::uint64_t hashed_bytes_ = 0;                                  // HASH's budget, per session

  // FTPS state.
  std::string tls_session_context_;        // ties data connections' TLS sessions to this session
  std::shared_ptr<const TlsContext> tls_;  // taken at connect: a reloaded certificate is for later
  bool pbsz_set_ = false;
  bool protect_data_ = false;  // PROT P
  bool implicit_tls_ = false;

  // Bandwidth: the user's buckets, shared with the user's other sessions and held while this
  // session lives (each transfer paces the session's own limit with a bucket of its own).
  std::shared_ptr<UserBandwidth::Buckets> user_rates_;
  BandwidthLimits bandwidth_limits_;  // the settings' at login, with the user's overrides

  // Quotas: the user's usage, shared with the user's other sessions.
  std::shared_ptr<QuotaUsage> quota_;
  QuotaLimits quota_limits_;  // the settings' at login, with the user's overrides
  // Before an upload: what it may take from the quota (nothing held without quotas); replies
  // 552 itself and returns nothing when the user is at their quota.
  Task<std::optional<QuotaReservation>> reserve_quota(const std::string& path, bool replaces);
  Task<std::optional<QuotaReservation>> reserve_cluster_quota(const std::string& path,
                                                              bool replaces);
  Task<void> refuse_for_quota(QuotaReservation::Refusal refusal);
  // After a delete or a rename: the user's usage is measured again before the next upload.
  void quota_changed();

  // The transfer in progress or the last one; ended (cancelled and joined) before the session
  // goes, and destroyed in ~Session before any other member.
  std::unique_ptr<Transfer> transfer_;
  bool quitting_ = false;
  // How the session ended, for the metrics; unset (count): by QUIT, shutdown or a close.
  Metrics::Ended end_outcome_ = Metrics::Ended::count;

  // Access limits (session_auth.cpp): the login deadline, the user's place, the 421s.
  Task<void> refuse_and_close(Refusal why);
  TimePoint login_deadline_{};   // from connect: trickling bytes or NOOPs cannot push it back
  AccessGuard::Slot user_slot_;  // held while logged in as a named account
  unsigned login_failures_ = 0;  // of this connection (the address's count may be unknown)
  // A cluster (cluster_client.hpp): bans decided by any node, failures counted for all of them,
  // and the user's place among the sessions of every node, given back when the session goes.
  Task<bool> banned_in_cluster();
  Task<unsigned> record_failure_in_cluster(unsigned failures);
  Task<Refusal> claim_place_in_cluster(const User& user);
  bool holds_cluster_place_ = false;
};

}  // namespace muxio::ftpd
