// ControlConnection: one FTP session as a client sees it — the control connection, its replies,
// and the operations (list, retrieve, store, size, mdtm, mkdir, delete, rename, cwd, pwd) as
// coroutines. Data connections are made per transfer: EPSV, then PASV when the server refuses
// EPSV (remembered), or active EPRT/PORT when asked for.
//
// Errors are values: an unexpected reply becomes reply_error(code) (last_reply() has its text),
// a broken connection its errno, a timeout Error::timed_out. After an error in the middle of a
// transfer the session may be out of step with the server: usable() turns false and the owner
// opens a new one. Owned by one task; loop thread only. Not safe to use from two tasks at once.
//
// Where it lives: control.cpp holds the protocol (connect, greeting, AUTH TLS, login, commands
// and replies, the data connection's set-up); data_transfer.cpp the data loops (list, retrieve,
// store). The error values are client_errors.hpp's, which of them to retry retry_policy.hpp's,
// name resolution resolve.hpp's.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ftp/client_reply.hpp"
#include "ftp/line_reader.hpp"
#include "ftp/listing_parse.hpp"
#include "ftpc/client_errors.hpp"
#include "muxio/tcp_listener.hpp"
#include "muxio/tcp_stream.hpp"
#include "muxio/time.hpp"
#include "muxio/tls_stream.hpp"

namespace muxio::ftpc {

struct Options {
  Duration connect_timeout = std::chrono::seconds(15);
  Duration reply_timeout = std::chrono::seconds(60);
  Duration data_timeout = std::chrono::seconds(60);  // data set-up, and a stalled data connection
  bool active = false;                               // EPRT/PORT instead of EPSV/PASV
  std::size_t buffer_size = 256 << 10;
  // FTPS (RFC 4217): explicit (AUTH TLS after the greeting) or implicit (TLS from the first
  // byte, port 990 style). Control and data connections are both protected (PROT P); data
  // connections resume the control connection's TLS session, as servers require.
  enum class Tls { off, explicit_auth, implicit };
  Tls tls = Tls::off;
  std::optional<TlsContext> tls_context;  // a client context; needed when tls is not off
  std::string tls_host;                   // the name the certificate must carry
};

class ControlConnection {
 public:
  // Resolves host (numeric, or by getaddrinfo on the offload pool), connects, reads the greeting.
  static Task<Result<std::unique_ptr<ControlConnection>>> connect(EventLoop& loop, std::string host,
                                                                  std::uint16_t port,
                                                                  Options options);
  ControlConnection(EventLoop& loop, TcpStream stream, Options options);

  // USER/PASS (anonymous when user is empty), then FEAT, UTF8 when offered, TYPE I.
  Task<std::error_code> login(std::string user, std::string password);

  // Sends "VERB arg" and returns the first reply (which may be a 1xx preliminary).
  Task<Result<ftp::Reply>> command(std::string verb, std::string arg);
  Task<Result<ftp::Reply>> read_reply();
  const ftp::Reply& last_reply() const { return last_; }
  // "550 No such file." — the last reply as one line, for error messages.
  std::string last_reply_line() const;

  bool has_feature(std::string_view name) const { return features_.count(std::string(name)) > 0; }
  const std::map<std::string, std::string>& features() const { return features_; }
  bool usable() const { return usable_; }

  Task<Result<std::vector<ftp::RemoteEntry>>> list(std::string path);
  Task<Result<std::uint64_t>> size(std::string path);
  Task<Result<std::int64_t>> mdtm(std::string path);
  Task<std::error_code> set_mtime(std::string path, std::int64_t unix_seconds);  // MFMT
  // HASH (draft-bryan-ftpext-hash-02) with `algorithm` ("SHA-256"), chosen first with OPTS HASH
  // when the session is not already on it. A refusal is reply_error(code).
  Task<Result<ftp::HashReply>> hash(std::string path, std::string algorithm);
  Task<std::error_code> mkdir(std::string path);
  Task<std::error_code> remove(std::string path);
  Task<std::error_code> rmdir(std::string path);
  Task<std::error_code> rename(std::string from, std::string to);
  Task<std::error_code> cwd(std::string path);
  Task<Result<std::string>> pwd();

  // RETR from `offset` (REST when > 0), written with pwrite at the same offset of `fd`. With a
  // `length`, stops after that many bytes (segmented downloads) and then this session is no longer
  // usable(). *position (when given) follows the absolute offset reached, for progress.
  Task<std::error_code> retrieve(std::string remote, int fd, std::uint64_t offset,
                                 std::optional<std::uint64_t> length, std::uint64_t* position);
  // STOR (REST first when offset > 0) or APPE (append), sending fd from `offset` to its end.
  enum class StoreMode { replace, restart, append };
  Task<std::error_code> store(std::string remote, int fd, std::uint64_t offset, StoreMode mode,
                              std::uint64_t* position);

  // QUIT, politely and bounded; the connection is closed either way.
  Task<void> quit();
  void close() { control_socket().close(); }
  // "TLSv1.3 TLS_AES_256_GCM_SHA384", or empty on a plain connection.
  std::string tls_description() const;
  // What OpenSSL said about the last TLS failure (a certificate that did not verify, ...).
  const std::string& tls_error() const { return tls_error_; }

 private:
  struct DataSetup {
    std::optional<TcpStream> stream;      // passive: already connected
    std::optional<TcpListener> listener;  // active: waiting for the server
  };
  // A data connection: TLS over TCP under PROT P.
  struct DataStream {
    TcpStream tcp;
    std::unique_ptr<TlsStream> tls;
    Stream* operator->() { return tls ? static_cast<Stream*>(tls.get()) : &tcp; }
  };
  Stream& control() { return control_tls_ ? static_cast<Stream&>(*control_tls_) : control_; }
  TcpStream& control_socket() { return control_tls_ ? control_tls_->transport() : control_; }
  Task<std::error_code> start_tls();
  Task<std::error_code> protect_data();
  Task<Result<DataSetup>> prepare_data();
  Task<Result<DataStream>> open_transfer(std::string verb, std::string arg);
  Task<std::error_code> secure(DataStream& data);
  Task<std::error_code> finish_transfer(bool complete);
  Task<std::error_code> simple(std::string verb, std::string arg, int expected_kind);

  EventLoop& loop_;
  TcpStream control_;
  std::unique_ptr<TlsStream> control_tls_;  // over control_'s connection, once TLS is on
  Options options_;
  SocketAddress peer_;
  SocketAddress local_;
  ftp::LineReader lines_{65536};
  ftp::ReplyAssembler assembler_;
  ftp::Reply last_;
  std::map<std::string, std::string> features_;
  std::string hash_algorithm_;  // what OPTS HASH last set (empty: the server's default)
  bool epsv_refused_ = false;
  bool eprt_refused_ = false;
  bool usable_ = true;
  std::string tls_error_;
};

// The text to show for an error of `conn`'s (or of no session: nullptr): the server's reply line
// ("550 No such file.") when the error is a reply code, else the error's message; then the hint
// (error_hint) when there is one.
std::string describe_error(std::error_code ec, const ControlConnection* conn);

}  // namespace muxio::ftpc
