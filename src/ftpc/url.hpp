// FTP URLs and where their credentials come from: ftp://user:pass@host:port/path (RFC 1738 with
// percent-decoding; ftps:// and ftpes:// for FTPS), ~/.netrc, and globs in the last path
// segment. Pure functions, no IO except read_netrc_file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace muxio::ftpc {

struct Url {
  std::string user;  // empty: not given (netrc, then anonymous)
  std::string password;
  bool has_password = false;
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 21;
  // ftps:// is implicit FTPS (TLS from the first byte, port 990); ftpes:// explicit (AUTH TLS).
  enum class Security { plain, explicit_tls, implicit_tls };
  Security security = Security::plain;
  // The decoded path relative to the login directory ("dir/file"); "%2F" at its start makes it
  // absolute ("/etc/file"). Empty for the login directory itself. A trailing '/' is kept.
  std::string path;

  // "ftp://user@host:port/path" — never the password, for messages.
  std::string display() const;
  // The same server with another path.
  Url with_path(std::string p) const;
};

// "%41" -> "A"; nullopt on a malformed escape or an encoded NUL.
std::optional<std::string> percent_decode(std::string_view s);
// Encodes the bytes a URL path cannot hold as they are (for display and for building URLs).
std::string percent_encode_path(std::string_view s);

// nullopt and *error set when the string is not an ftp:// URL we can use.
std::optional<Url> parse_url(std::string_view s, std::string* error);

struct NetrcCredentials {
  std::string login;
  std::string password;
};
// The "machine HOST" entry of a .netrc text, else its "default" entry.
std::optional<NetrcCredentials> netrc_lookup(std::string_view text, std::string_view host);
// ~/.netrc ($HOME) as text, or empty.
std::string read_netrc_file();

// Who logs in for a URL: its user and password; else the .netrc entry for its host, when that
// names the same user or the URL names none; else the URL's user with a password still to ask
// for (ask_password); else anonymous (an empty user).
struct LoginCredentials {
  std::string user;
  std::string password;
  bool ask_password = false;
};
LoginCredentials credentials_for(const Url& url, std::string_view netrc_text);

// Whether a path segment holds glob characters (* ? [).
bool has_glob(std::string_view segment);
// fnmatch(3) of one name, '*' not matching a leading '.'.
bool glob_match(std::string_view pattern, std::string_view name);

// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}; "/c" -> {"/", "c"}.
std::pair<std::string, std::string> split_dir(std::string_view path);
// The last segment: "a/b/c" -> "c"; "a/b/" -> "" (a directory).
std::string base_name(std::string_view path);
// Joins a directory and a name with one '/'.
std::string join_path(std::string_view dir, std::string_view name);

}  // namespace muxio::ftpc
