// FTPS (RFC 4217): AUTH TLS on the control connection, PBSZ and PROT for the data connections,
// CCC refused, and the TLS handshake on each data connection with session reuse enforced.
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "ftpd/session.hpp"

namespace muxio::ftpd {

namespace {

// What a client (and its user) can do about a data connection refused for want of session reuse.
constexpr const char* kNotThisControlSession =
    "TLS session reuse required: the data connection must resume this control connection's TLS "
    "session. Clients that share one session cache across connections (curl --parallel, "
    "rclone) need the server's tls_reuse_scope = client.";
constexpr const char* kNoSessionOfThisAddress =
    "TLS session reuse required: the data connection must resume a TLS session of a control "
    "connection from this address, and offered none.";

}  // namespace

bool Session::tls_required_for(std::string_view user) const {
  if (settings_->tls != ServerConfig::TlsMode::required || control_tls_) return false;
  return !is_anonymous_login(user);
}

Task<void> Session::cmd_auth(const std::string& arg) {
  if (!tls_) {
    co_await reply(502, "TLS is not configured on this server.");
    co_return;
  }
  if (control_tls_) {
    co_await reply(503, "Already using TLS.");
    co_return;
  }
  std::string mechanism = ftp::ascii_upper(arg);
  if (mechanism != "TLS" && mechanism != "TLS-C" && mechanism != "SSL" && mechanism != "TLS-P") {
    co_await reply(504, "AUTH TLS is the supported mechanism.");
    co_return;
  }
  co_await reply(234, "AUTH " + mechanism + " OK; starting TLS.");
  bool secured = co_await start_control_tls();
  if (!secured) {
    quitting_ = true;  // the connection is in an unknown state: end it
    co_return;
  }
  // Old clients' "AUTH SSL" meant protected data connections as well.
  if (mechanism == "SSL" || mechanism == "TLS-P") protect_data_ = true;
  // RFC 4217 §4: a fresh start after AUTH; whoever was logged in must log in again, now
  // protected.
  logged_in_ = false;
  user_ = nullptr;
  pending_user_.clear();
  user_slot_ = {};
  if (std::exchange(holds_cluster_place_, false)) server_.cluster->release_session(id_);
}

Task<bool> Session::start_control_tls() {
  // Bytes a client pipelined behind AUTH arrived in clear text and must not be taken for
  // commands sent under TLS (the STARTTLS command-injection attack): drop them.
  if (reader_.buffered() > 0) {
    log("dropped " + std::to_string(reader_.buffered()) + " bytes sent in clear after AUTH");
    reader_ = ftp::LineReader(settings_->max_command_line);
  }
  if (settings_->tls_reuse_scope == ServerConfig::TlsReuseScope::client) {
    // One context per client address: a session from any of its control connections resumes.
    unsigned char digest[SHA256_DIGEST_LENGTH];
    std::string ip = peer_.ip();
    SHA256(reinterpret_cast<const unsigned char*>(ip.data()), ip.size(), digest);
    tls_session_context_.assign(reinterpret_cast<const char*>(digest), 32);
  } else {
    unsigned char token[16];
    if (RAND_bytes(token, sizeof token) != 1) co_return false;
    tls_session_context_.assign(reinterpret_cast<const char*>(token), sizeof token);
  }
  control_tls_ = std::make_unique<TlsStream>(std::move(control_tcp_), *tls_);
  control_tls_->set_session_id_context(tls_session_context_);
  auto ec = co_await with_timeout(settings_->login_timeout, control_tls_->handshake());
  if (ec) {
    log("TLS handshake on the control connection failed: " + ec.message() + " " +
        control_tls_->last_error());
    co_return false;
  }
  log("TLS on the control connection: " + control_tls_->protocol() + " " + control_tls_->cipher());
  co_return true;
}

Task<void> Session::cmd_pbsz(const std::string& arg) {
  if (!control_tls_) {
    co_await reply(503, "PBSZ needs AUTH TLS first.");
    co_return;
  }
  if (arg.empty() || arg.find_first_not_of("0123456789") != std::string::npos) {
    co_await reply(501, "PBSZ needs a number.");
    co_return;
  }
  pbsz_set_ = true;
  co_await reply(200, "PBSZ=0");  // TLS is a stream protection: the buffer size is always 0
}

Task<void> Session::cmd_prot(const std::string& arg) {
  if (!control_tls_ || !pbsz_set_) {
    co_await reply(503, "PROT needs AUTH TLS and PBSZ first.");
    co_return;
  }
  std::string level = ftp::ascii_upper(arg);
  if (level == "P") {
    protect_data_ = true;
    co_await reply(200, "Protection level set to Private.");
  } else if (level == "C") {
    if (settings_->tls == ServerConfig::TlsMode::required) {
      co_await reply(534, "Data connections must be encrypted on this server.");
      co_return;
    }
    protect_data_ = false;
    co_await reply(200, "Protection level set to Clear.");
  } else if (level == "S" || level == "E") {
    co_await reply(536, "Only PROT C and PROT P are supported.");
  } else {
    co_await reply(504, "Unknown protection level.");
  }
}

Task<void> Session::cmd_ccc(const std::string&) {
  if (!control_tls_) {
    co_await reply(533, "The control connection is not protected.");
    co_return;
  }
  // Clearing the control channel would reveal every later command; we do not.
  co_await reply(534, "Request denied for policy reasons: the control connection stays protected.");
}

Task<bool> Session::secure_data_connection(DataConnection& conn) {
  if (!protect_data_) {
    bool anonymous = user_ != nullptr && user_->anonymous;
    if (settings_->tls == ServerConfig::TlsMode::required && !anonymous) {
      co_await reply(521, "Data connections must be encrypted (PROT P).");
      co_return false;
    }
    co_return true;
  }
  conn.tls = std::make_unique<TlsStream>(std::move(conn.tcp), *tls_);
  conn.tls->set_session_id_context(tls_session_context_);
  // No tickets here: an upload's client never reads them, and unread bytes turn its close into
  // a reset that can cut the upload's tail. Fresh sessions come on the control connection.
  conn.tls->set_ticket_count(0);
  auto ec = co_await with_timeout(settings_->data_timeout, conn.tls->handshake());
  if (ec) {
    log("TLS handshake on the data connection failed: " + ec.message() + " " +
        conn.tls->last_error());
    co_await reply(522, "TLS handshake on the data connection failed.");
    co_return false;
  }
  if (settings_->tls_require_reuse && !conn.tls->session_reused()) {
    bool per_client = settings_->tls_reuse_scope == ServerConfig::TlsReuseScope::client;
    log(per_client ? "refused a data connection that resumed no TLS session of this address"
                   : "refused a data connection that did not resume the control connection's "
                     "TLS session");
    co_await reply(522, per_client ? kNoSessionOfThisAddress : kNotThisControlSession);
    co_return false;
  }
  // The session just resumed may now be spent (see offer_fresh_tls_session): the reply that
  // ends this transfer brings the next one.
  offer_fresh_tls_session();
  co_return true;
}

void Session::offer_fresh_tls_session() {
  // OpenSSL clients with a session cache (curl) use a TLS 1.3 session once and then drop it,
  // so a data connection spends the session it resumed. A fresh ticket on the control
  // connection, which the client always reads, is ready before its next data connection (the
  // 150 reply and the 226 carry one each). Tickets carry the control connection's session id
  // context, so reuse stays bound to it; each is fresh, so a control connection older than
  // tls_session_lifetime keeps its data connections.
  if (control_tls_ && protect_data_) (void)control_tls_->issue_session_ticket();
}

bool Session::upload_cut_short(DataConnection& conn) {
  // Under TLS only a close_notify proves the end of the data: a bare TCP FIN may be a cut (an
  // attacker's, or a client that crashed), and committing it would replace a good file with a
  // truncated one.
  if (!conn.tls || conn.tls->peer_closed_cleanly()) return false;
  if (!settings_->tls_upload_needs_close_notify) return false;
  log("upload ended by a TCP FIN without TLS close_notify: treated as cut short");
  return true;
}

}  // namespace muxio::ftpd
