#include "ftpd/http_request.hpp"

namespace muxio::ftpd {

namespace {

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

bool valid_request_line(std::string_view line, HttpRequest& out) {
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return false;
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return false;
  if (target.empty() || target[0] != '/') return false;
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  out.method = std::string(method);
  out.path = std::string(target.substr(0, target.find('?')));
  return true;
}

bool valid_header_line(std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  // No whitespace before the colon, no obsolete line folding (a line starting with a space).
  if (!is_token(line.substr(0, colon))) return false;
  for (char c : line.substr(colon + 1)) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

}  // namespace

HttpParse parse_http_request(std::string_view buffer, std::size_t max_head, HttpRequest& out) {
  auto end = buffer.find("\r\n\r\n");
  if (end == std::string_view::npos || end + 4 > max_head) {
    if (buffer.size() >= max_head) return HttpParse::too_large;
    // A bare LF or a NUL is never going to become a valid head: refuse early.
    for (std::size_t i = 0; i < buffer.size(); ++i) {
      if (buffer[i] == '\0') return HttpParse::bad;
      if (buffer[i] == '\n' && (i == 0 || buffer[i - 1] != '\r')) return HttpParse::bad;
    }
    return HttpParse::incomplete;
  }
  std::string_view head = buffer.substr(0, end + 2);  // every line with its CRLF
  bool first = true;
  while (!head.empty()) {
    auto eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
      return HttpParse::bad;
    }
    if (first) {
      if (!valid_request_line(line, out)) return HttpParse::bad;
      first = false;
    } else if (!valid_header_line(line)) {
      return HttpParse::bad;
    }
  }
  return first ? HttpParse::bad : HttpParse::ok;
}

std::string http_response(int status, std::string_view content_type, std::string_view body,
                          bool head_only, std::string_view extra_headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  out += "Content-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra_headers;
  out += "Connection: close\r\nCache-Control: no-store\r\n\r\n";
  if (!head_only) out += body;
  return out;
}

}  // namespace muxio::ftpd
