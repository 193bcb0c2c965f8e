#include "ftpc/url.hpp"

#include <fnmatch.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace muxio::ftpc {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '/' || c == '*' || c == '?' || c == '[' ||
         c == ']' || c == '+' || c == ',' || c == '=' || c == ':' || c == '@';
}

std::string encode_userinfo(std::string_view s) {
  std::string out;
  static const char hex[] = "0123456789ABCDEF";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == ':' || c == '@' || c == '/' || c == '%' || u <= 32 || u >= 127) {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]);
    int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return std::nullopt;
    out += c;
    i += 2;
  }
  return out;
}

std::string percent_encode_path(std::string_view s) {
  std::string out;
  static const char hex[] = "0123456789ABCDEF";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (is_unreserved(c)) {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

std::string Url::display() const {
  std::string out = security == Security::implicit_tls   ? "ftps://"
                    : security == Security::explicit_tls ? "ftpes://"
                                                         : "ftp://";
  if (!user.empty()) out += encode_userinfo(user) + "@";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (security == Security::implicit_tls ? 990 : 21)) out += ":" + std::to_string(port);
  out += "/";
  if (!path.empty() && path[0] == '/') {
    out += "%2F" + percent_encode_path(path.substr(1));
  } else {
    out += percent_encode_path(path);
  }
  return out;
}

Url Url::with_path(std::string p) const {
  Url u = *this;
  u.path = std::move(p);
  return u;
}

std::optional<Url> parse_url(std::string_view s, std::string* error) {
  auto fail = [error](const char* why) -> std::optional<Url> {
    if (error != nullptr) *error = why;
    return std::nullopt;
  };
  // ftp://, ftps:// (implicit TLS, port 990, as curl and lftp read it) and ftpes:// (explicit
  // AUTH TLS on port 21, as FileZilla writes it).
  struct Scheme {
    std::string_view prefix;
    Url::Security security;
    std::uint16_t port;
  };
  static constexpr Scheme kSchemes[] = {{"ftp://", Url::Security::plain, 21},
                                        {"ftps://", Url::Security::implicit_tls, 990},
                                        {"ftpes://", Url::Security::explicit_tls, 21}};
  const Scheme* scheme = nullptr;
  for (const auto& candidate : kSchemes) {
    if (s.size() < candidate.prefix.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < candidate.prefix.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(s[i])) == candidate.prefix[i];
    if (same) scheme = &candidate;
  }
  if (scheme == nullptr) return fail("not an ftp://, ftps:// or ftpes:// URL");
  s.remove_prefix(scheme->prefix.size());
  auto slash = s.find('/');
  std::string_view authority = s.substr(0, slash);
  std::string_view raw_path =
      slash == std::string_view::npos ? std::string_view{} : s.substr(slash + 1);
  Url url;
  url.security = scheme->security;
  url.port = scheme->port;
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    if (!user) return fail("bad percent-escape in the user name");
    url.user = *user;
    if (colon != std::string_view::npos) {
      auto pass = percent_decode(userinfo.substr(colon + 1));
      if (!pass) return fail("bad percent-escape in the password");
      url.password = *pass;
      url.has_password = true;
    }
  }
  std::string_view port_s;
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("unclosed '[' in the host");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return fail("junk after the IPv6 address");
      port_s = after.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_s = authority.substr(colon + 1);
  }
  if (url.host.empty()) return fail("no host in the URL");
  if (!port_s.empty()) {
    unsigned long port = 0;
    for (char c : port_s) {
      if (c < '0' || c > '9' || port > 65535) return fail("bad port");
      port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (port == 0 || port > 65535) return fail("bad port");
    url.port = static_cast<std::uint16_t>(port);
  }
  // ";type=i" and friends (RFC 1738) are accepted and ignored: transfers are always binary.
  auto semi = raw_path.find(";type=");
  if (semi != std::string_view::npos) raw_path = raw_path.substr(0, semi);
  auto path = percent_decode(raw_path);
  if (!path) return fail("bad percent-escape in the path");
  for (char c : *path)
    if (c == '\r' || c == '\n') return fail("CR or LF in the path");
  url.path = *path;
  return url;
}

std::optional<NetrcCredentials> netrc_lookup(std::string_view text, std::string_view host) {
  std::vector<std::string> tokens;
  std::istringstream in{std::string(text)};
  std::string tok;
  while (in >> tok)
    tokens.push_back(tok);
  std::optional<NetrcCredentials> found;
  std::optional<NetrcCredentials> fallback;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    bool is_machine = tokens[i] == "machine" && i + 1 < tokens.size();
    bool is_default = tokens[i] == "default";
    if (tokens[i] == "macdef") {
      // A macro runs to the next empty line; tokens cannot see lines, so stop here.
      break;
    }
    if (!is_machine && !is_default) continue;
    bool match = is_machine && tokens[i + 1] == host;
    std::size_t j = is_machine ? i + 2 : i + 1;
    NetrcCredentials c;
    for (; j + 1 < tokens.size() && tokens[j] != "machine" && tokens[j] != "default"; j += 2) {
      if (tokens[j] == "login")
        c.login = tokens[j + 1];
      else if (tokens[j] == "password")
        c.password = tokens[j + 1];
      else if (tokens[j] == "account")
        continue;
    }
    if (match && !found) found = c;
    if (is_default && !fallback) fallback = c;
    i = j - 1;
  }
  return found ? found : fallback;
}

LoginCredentials credentials_for(const Url& url, std::string_view netrc_text) {
  LoginCredentials c;
  c.user = url.user;
  c.password = url.password;
  if (url.has_password) return c;
  auto n = netrc_lookup(netrc_text, url.host);
  if (n && (url.user.empty() || url.user == n->login)) {
    c.user = n->login;
    c.password = n->password;
  } else if (!url.user.empty()) {
    c.ask_password = true;
  }
  return c;
}

std::string read_netrc_file() {
  const char* home = std::getenv("HOME");
  if (home == nullptr) return {};
  std::ifstream f(std::string(home) + "/.netrc");
  if (!f) return {};
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool has_glob(std::string_view segment) {
  return segment.find_first_of("*?[") != std::string_view::npos;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  return ::fnmatch(std::string(pattern).c_str(), std::string(name).c_str(), FNM_PERIOD) == 0;
}

std::pair<std::string, std::string> split_dir(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return {"", std::string(path)};
  if (slash == 0) return {"/", std::string(path.substr(1))};
  return {std::string(path.substr(0, slash)), std::string(path.substr(slash + 1))};
}

std::string base_name(std::string_view path) {
  return split_dir(path).second;
}

std::string join_path(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string out(dir);
  if (out.back() != '/') out += '/';
  out += name;
  return out;
}

}  // namespace muxio::ftpc
