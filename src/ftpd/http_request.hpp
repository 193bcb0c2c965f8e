// A minimal HTTP/1.x request parser and response writer for the metrics listener: it reads one
// request head (request line and headers, bounded in size), ignores any body, answers once and
// closes (Connection: close). Pure: no IO, unit-tested.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace muxio::ftpd {

struct HttpRequest {
  std::string method;  // "GET"
  std::string path;    // the target without its query string: "/metrics"
};

enum class HttpParse {
  incomplete,  // no blank line yet: read more
  ok,
  bad,        // 400
  too_large,  // 431: the head reached max_head bytes without ending
};

// Parses the head at the start of `buffer` (what was read so far).
HttpParse parse_http_request(std::string_view buffer, std::size_t max_head, HttpRequest& out);

// A complete response with Content-Length and Connection: close; `head_only` leaves out the body
// (HEAD). `extra_headers` are whole lines ending in \r\n (e.g. "Allow: GET, HEAD\r\n").
std::string http_response(int status, std::string_view content_type, std::string_view body,
                          bool head_only, std::string_view extra_headers = {});

}  // namespace muxio::ftpd
