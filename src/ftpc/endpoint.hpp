// Endpoint: where a session goes and how it logs in (host, port, user, password, the session
// Options with their TLS), and open_session(), the one call that connects and logs in. Every
// part of the client that needs a session (TransferRunner's workers, the shell, mirror, the
// segmented get) goes through it. endpoint_for() builds one from a URL, the same way for muxftp's
// subcommands and its shell.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "ftpc/control.hpp"
#include "ftpc/tls_options.hpp"
#include "ftpc/url.hpp"

namespace muxio::ftpc {

struct Endpoint {
  std::string host;
  std::uint16_t port = 21;
  std::string user;
  std::string password;
  Options options;
};

// The endpoint of `url` for `login` (credentials_for, with a password asked for already), with
// `options` and the TLS the URL and `tls` ask for; nullopt and *error when the TLS context cannot
// be made.
std::optional<Endpoint> endpoint_for(const Url& url, const LoginCredentials& login,
                                     const Options& options, const TlsSettings& tls,
                                     std::string* error);

// Connects and logs in: one call for every place that needs a session.
Task<Result<std::unique_ptr<ControlConnection>>> open_session(EventLoop& loop, Endpoint endpoint);

}  // namespace muxio::ftpc
