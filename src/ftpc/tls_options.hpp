// FTPS for the client's sessions: which TLS a URL asks for (ftps:// implicit, ftpes:// explicit,
// or --tls for explicit on ftp://) and the client TLS context (system trust store, --cacert,
// --insecure), made once per process and shared by every session.
#pragma once

#include <string>
#include <system_error>

#include "ftpc/control.hpp"
#include "ftpc/url.hpp"

namespace muxio::ftpc {

struct TlsSettings {
  bool require = false;  // --tls: AUTH TLS on ftp:// URLs too (never falls back to clear text)
  bool verify = true;    // off with --insecure
  std::string ca_file;   // --cacert: trust this certificate (or CA bundle) as well
};

// Sets o.tls, o.tls_context and o.tls_host for a session to `url`; an error (and *error) when the
// TLS context cannot be made (an unreadable --cacert file, say).
std::error_code apply_tls(Options& o, const Url& url, const TlsSettings& settings,
                          std::string* error);

}  // namespace muxio::ftpc
