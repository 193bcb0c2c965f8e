// Fuzzes reply framing with arbitrary text (file names, user names and error strings end up in
// replies). Invariant: the output is a well-formed RFC 959 reply — CRLF-terminated lines, no other
// CR, LF or NUL, and exactly one line that a client takes as the end ("ddd "), the last one.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ftp/reply.hpp"
#include "fuzz_input.hpp"

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

void check_framing(const std::string& reply, int code) {
  const std::string prefix = std::to_string(code);
  FUZZ_CHECK(reply.size() >= 6 && reply.compare(reply.size() - 2, 2, "\r\n") == 0);
  FUZZ_CHECK(reply.find('\0') == std::string::npos);
  std::vector<std::string_view> lines;
  std::string_view rest(reply);
  while (!rest.empty()) {
    const auto crlf = rest.find("\r\n");
    FUZZ_CHECK(crlf != std::string_view::npos);
    const auto line = rest.substr(0, crlf);
    FUZZ_CHECK(line.find_first_of("\r\n") == std::string_view::npos);
    lines.push_back(line);
    rest.remove_prefix(crlf + 2);
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto line = lines[i];
    const bool last = i + 1 == lines.size();
    const bool ends_reply = line.size() >= 4 && is_digit(line[0]) && is_digit(line[1]) &&
                            is_digit(line[2]) && line[3] == ' ';
    FUZZ_CHECK(ends_reply == last);
    if (i == 0) FUZZ_CHECK(line.substr(0, 3) == prefix && line[3] == (last ? ' ' : '-'));
    if (last) FUZZ_CHECK(line.substr(0, 3) == prefix);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  muxio::ftp::fuzz::FuzzInput in(data, size);
  const int code = 100 + in.integral<std::uint16_t>() % 500;
  const std::string_view text = in.field();
  check_framing(muxio::ftp::format_reply(code, text), code);

  const std::string_view first = in.field();
  const std::string_view last = in.field();
  std::vector<std::string> body;
  while (!in.empty())
    body.emplace_back(in.field());
  const std::string multi = muxio::ftp::format_multiline(code, first, body, last);
  check_framing(multi, code);
  return 0;
}
