// The data connection's set-up and the commands that start or end file transfers: PASV, EPSV,
// PORT and EPRT (the DataChannel), RETR, STOR, STOU and APPE, and ABOR. A handler checks
// permissions, resolves the path, reserves quota and opens the file (on the offload pool), then
// hands it to a Transfer (transfer.hpp) that the session owns, which runs as a task of its own
// so the control connection stays responsive.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "ftp/host_port.hpp"
#include "ftpd/cluster_quota.hpp"
#include "ftpd/session.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpd {

Task<void> Session::cmd_pasv(const std::string&) {
  if (epsv_all_) {
    co_await reply(501, "PASV not allowed after EPSV ALL.");
    co_return;
  }
  // What the client is told (passive_address, overrides, PROXY destination, network_config.hpp).
  // An IPv6 client cannot be told an address in PASV form (RFC 2428: EPSV).
  auto local = control_socket().local_address();
  std::optional<SocketAddress> advertised;
  if (local && ftp::has_ipv4_form(peer_)) {
    advertised = passive_ip_for(settings_->network, peer_, *local, proxy_destination_);
  }
  if (!advertised) {
    co_await reply(522, "Network protocol not supported, use EPSV.");
    co_return;
  }
  auto addr = data_.listen_passive();
  if (!addr) {
    co_await reply(425, "Cannot open passive connection.");
    co_return;
  }
  advertised->set_port(advertised_passive_port(settings_->network, addr->port()));
  co_await reply(227, ftp::format_pasv_reply_text(*advertised));
}

Task<void> Session::cmd_epsv(const std::string& arg) {
  std::string a = ftp::ascii_upper(arg);
  if (a == "ALL") {
    epsv_all_ = true;
    co_await reply(200, "EPSV ALL ok: only EPSV from now on.");
    co_return;
  }
  auto local = control_socket().local_address();
  if (!a.empty() && local && a != (local->is_v6() ? "2" : "1")) {
    co_await reply(522, std::string("Network protocol not supported, use (") +
                            (local->is_v6() ? "2" : "1") + ")");
    co_return;
  }
  auto addr = data_.listen_passive();
  if (!addr) {
    co_await reply(425, "Cannot open passive connection.");
    co_return;
  }
  co_await reply(
      229, ftp::format_epsv_reply_text(advertised_passive_port(settings_->network, addr->port())));
}

Task<void> Session::cmd_port(const std::string& arg) {
  if (epsv_all_) {
    co_await reply(501, "PORT not allowed after EPSV ALL.");
    co_return;
  }
  auto addr = ftp::parse_port_arg(arg);
  if (!addr) {
    co_await reply(501, "Syntax error in PORT arguments.");
    co_return;
  }
  if (data_.set_active(*addr)) {
    co_await reply(500, "Illegal PORT command: only your own address, port 1024 or above.");
    co_return;
  }
  co_await reply(200, "PORT command successful. Consider using PASV.");
}

Task<void> Session::cmd_eprt(const std::string& arg) {
  if (epsv_all_) {
    co_await reply(501, "EPRT not allowed after EPSV ALL.");
    co_return;
  }
  auto addr = ftp::parse_eprt_arg(arg);
  if (!addr) {
    co_await reply(522, "Network protocol not supported, use (1,2).");
    co_return;
  }
  if (data_.set_active(*addr)) {
    co_await reply(500, "Illegal EPRT command: only your own address, port 1024 or above.");
    co_return;
  }
  co_await reply(200, "EPRT command successful.");
}

Transfer& Session::new_transfer(std::string what) {
  const BandwidthLimits& limits = bandwidth_limits_;
  if ((limits.user_download != 0 || limits.user_upload != 0) && !user_rates_) {
    user_rates_ = server_.bandwidth.for_user(user_name_, limits);
  }
  TransferSetup setup{loop_,   server_,     *settings_,       vfs_,
                      *this,   id_,         peer_.ip(),       user_name_,
                      binary_, user_rates_, bandwidth_limits_};
  // The last transfer is done (dispatch waits for it before any command that starts one).
  transfer_ = std::make_unique<Transfer>(std::move(setup), std::move(what));
  return *transfer_;
}

Task<std::optional<DataConnection>> Session::open_data_connection(std::string opening) {
  auto stream = co_await data_.open();
  if (!stream) {
    if (stream.error() == Error::cancelled) {
      co_await shielded(reply(426, "Transfer aborted before it started."));
    } else {
      co_await shielded(reply(425, "Cannot open data connection."));
    }
    co_return std::nullopt;
  }
  DataConnection conn;
  conn.tcp = std::move(*stream);
  offer_fresh_tls_session();  // with the 150: what the data connection's handshake resumes
  co_await reply(150, opening);
  // RFC 4217: the TLS handshake on the data connection follows the 150.
  bool secured = co_await secure_data_connection(conn);
  if (!secured) co_return std::nullopt;
  co_return std::move(conn);
}

Task<void> Session::cmd_abor(const std::string&) {
  if (transfer_running()) {
    transfer_->cancel();
    (void)co_await transfer_->finish();  // the transfer replies 426 as it ends
    co_await reply(226, "ABOR successful.");
    co_return;
  }
  data_.reset();
  co_await reply(225, "No transfer to abort.");
}

Task<void> Session::cmd_retr(const std::string& arg) {
  std::uint64_t offset = std::exchange(restart_offset_, 0);  // used up, whatever happens next
  bool allowed = co_await require(kRead);
  if (!allowed) co_return;
  auto path = co_await resolve(arg);
  if (!path) co_return;
  if (!data_.ready()) {
    co_await reply(425, "Use PORT, EPRT, PASV or EPSV first.");
    co_return;
  }
  auto file = co_await offload([&] { return vfs_.open(*path, O_RDONLY); });
  if (!file) {
    co_await reply_error(file.error());
    co_return;
  }
  struct stat st {};
  if (::fstat(file->get(), &st) < 0 || !S_ISREG(st.st_mode)) {
    co_await reply(550, "Not a regular file.");
    co_return;
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (offset > size) {
    co_await reply(554, "Restart offset beyond the end of the file.");
    co_return;
  }
  new_transfer("RETR " + *path).start_download(std::move(*file), *path, offset, size);
}

Task<void> Session::cmd_stor(const std::string& arg) {
  co_await start_store(arg, StoreMode::replace);
}

Task<void> Session::cmd_appe(const std::string& arg) {
  co_await start_store(arg, StoreMode::append);
}

Task<void> Session::cmd_stou(const std::string& arg) {
  co_await start_store(arg, StoreMode::unique);
}

Task<void> Session::start_store(const std::string& arg, StoreMode mode) {
  std::uint64_t offset = std::exchange(restart_offset_, 0);  // used up, whatever happens next
  bool allowed = co_await require(kWrite);
  if (!allowed) co_return;
  // STOU: a fresh name in the current directory; the server picks it (RFC 1123 §4.1.2.9).
  const std::string name = mode == StoreMode::unique ? unique_upload_name() : arg;
  auto path = co_await resolve(name);
  if (!path) co_return;
  if (!data_.ready()) {
    co_await reply(425, "Use PORT, EPRT, PASV or EPSV first.");
    co_return;
  }
  bool replaces = mode == StoreMode::replace && offset == 0;
  auto quota = co_await reserve_quota(*path, replaces);
  if (!quota) co_return;
  std::optional<TempFile> temp;
  Result<UniqueFd> file = errno_code(EINVAL);
  if (mode == StoreMode::unique) {
    file = co_await offload([&] { return vfs_.open(*path, O_WRONLY | O_CREAT | O_EXCL); });
  } else if (mode == StoreMode::append || offset > 0) {
    // APPE, and REST + STOR, continue a file in place (RFC 959; RFC 3659 §5).
    file =
        co_await offload([&] { return open_in_place(*path, mode == StoreMode::append, offset); });
  } else {
    // A plain STOR never touches the old file until the new one is complete.
    auto t = co_await offload([&]() -> Result<TempFile> {
      auto st = vfs_.stat(*path);
      if (st && S_ISDIR(st->st_mode)) return errno_code(EISDIR);
      return vfs_.create_temp(*path);
    });
    if (t) {
      file = UniqueFd(t->file.release());
      temp = std::move(*t);
    } else {
      file = t.error();
    }
  }
  if (!file) {
    quota.reset();  // given back before the reply, as no upload follows
    if (file.error() == std::errc::invalid_seek) {
      co_await reply(554, "Restart offset beyond the end of the file.");
    } else {
      co_await reply_error(file.error());
    }
    co_return;
  }
  UploadTarget target;
  target.file = std::move(*file);
  target.temp = std::move(temp);
  target.path = *path;
  if (mode == StoreMode::unique) target.unique_name = *path;
  target.truncate_when_complete = mode == StoreMode::replace && offset > 0;
  target.quota = std::move(*quota);
  new_transfer("STOR " + *path).start_upload(std::move(target));
}

// Per-user quotas at upload time: the user's usage is measured (off the loop) when unknown or
// stale, and the upload gets a QuotaReservation that its Transfer holds: a new file takes a file
// slot, bytes are taken as they arrive, and a failed upload gives back what it took.
Task<std::optional<QuotaReservation>> Session::reserve_quota(const std::string& path,
                                                             bool replaces) {
  const QuotaLimits& limits = quota_limits_;
  if (!limits.any()) co_return QuotaReservation();
  if (server_.cluster) co_return co_await reserve_cluster_quota(path, replaces);
  if (!quota_) {
    quota_ = server_.quotas.get(user_name_, [] { return std::make_shared<QuotaUsage>(); });
  }
  if (quota_->needs_measuring()) {
    QuotaUsage::MeasureTicket ticket = quota_->start_measuring();
    auto measured = co_await offload([&] { return measure_usage(vfs_); });
    if (measured) quota_->set_measured(ticket, measured->bytes, measured->files);
  }
  auto st = co_await offload([&] { return vfs_.stat(path); });
  const bool exists = st && S_ISREG(st->st_mode);
  const std::uint64_t replaced = exists && replaces ? static_cast<std::uint64_t>(st->st_size) : 0;
  QuotaReservation::Refusal refusal = QuotaReservation::Refusal::none;
  QuotaReservation reservation(quota_, limits, exists, replaced, &refusal);
  if (refusal != QuotaReservation::Refusal::none) {
    co_await refuse_for_quota(refusal);
    co_return std::nullopt;
  }
  co_return std::move(reservation);
}

// A node of a cluster: the user's usage is the ledger's, for every node; this node measures it
// (walking the shared home) when the ledger says it is stale, and the upload's first lease takes
// its file slot. A ledger that does not answer refuses the upload (451): a quota that cannot be
// checked is not waived.
Task<std::optional<QuotaReservation>> Session::reserve_cluster_quota(const std::string& path,
                                                                     bool replaces) {
  ClusterClient& cluster = *server_.cluster;
  auto state = co_await cluster.quota_state(user_name_);
  if (!state) {
    co_await reply(451, "Quota cannot be checked now; try again later.");
    co_return std::nullopt;
  }
  if (state->stale) {
    auto measured = co_await offload([&] { return measure_usage(vfs_); });
    if (measured) {
      (void)co_await cluster.quota_measured(user_name_, state->changes, measured->bytes,
                                            measured->files);
    }
  }
  auto st = co_await offload([&] { return vfs_.stat(path); });
  const bool exists = st && S_ISREG(st->st_mode);
  const std::uint64_t replaced = exists && replaces ? static_cast<std::uint64_t>(st->st_size) : 0;
  auto quota =
      std::make_unique<ClusterQuota>(server_.cluster, user_name_, quota_limits_, !exists, replaced);
  auto granted = co_await quota->first_grant();
  if (!granted) {
    co_await reply(451, "Quota cannot be checked now; try again later.");
    co_return std::nullopt;
  }
  if (granted->refusal != QuotaReservation::Refusal::none) {
    co_await refuse_for_quota(granted->refusal);
    co_return std::nullopt;
  }
  co_return QuotaReservation(std::move(quota), granted->bytes);
}

Task<void> Session::refuse_for_quota(QuotaReservation::Refusal refusal) {
  const QuotaLimits& limits = quota_limits_;
  if (refusal == QuotaReservation::Refusal::files) {
    log("upload refused: file quota (" + std::to_string(limits.files) + " files) reached");
    co_await reply(552, "Quota exceeded: " + std::to_string(limits.files) + " files.");
  } else {
    log("upload refused: byte quota reached");
    co_await reply(552, "Quota exceeded: " + std::to_string(limits.bytes) + " bytes.");
  }
}

std::string Session::unique_upload_name() const {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char name[40];
  std::snprintf(name, sizeof name, "muxftpd.%016llx", static_cast<unsigned long long>(rng()));
  return name;
}

// Blocking (offload pool): opens a regular file for APPE or a REST + STOR resume. Nothing is cut
// here: the data connection may never come (425, 426 on ABOR, 521/522 under TLS), and the old
// tail must then still be there; the upload cuts it when complete (Transfer::finish_in_place).
Result<UniqueFd> Session::open_in_place(const std::string& path, bool append,
                                        std::uint64_t offset) const {
  auto f = vfs_.open(path, append ? (O_WRONLY | O_APPEND | O_CREAT) : O_WRONLY);
  if (!f) return f;
  struct stat st {};
  if (::fstat(f->get(), &st) < 0) return errno_code(errno);
  if (!S_ISREG(st.st_mode)) return errno_code(EPERM);  // no FIFOs, devices, directories
  if (append) return f;
  if (static_cast<std::uint64_t>(st.st_size) < offset) return errno_code(ESPIPE);
  if (::lseek(f->get(), static_cast<off_t>(offset), SEEK_SET) < 0) return errno_code(errno);
  return f;
}

}  // namespace muxio::ftpd
