// Fuzzes the control-connection input path: LineReader -> strip_telnet -> parse_command.
// Input: [max_line byte][chunking seed byte] bytes...
// Invariants: feeding in chunks gives the same lines as feeding at once; lines never exceed
// max_line nor contain LF; the buffer stays bounded; parsed verbs and arguments obey the grammar.
#include <cstdint>
#include <string>
#include <vector>

#include "ftp/command.hpp"
#include "ftp/line_reader.hpp"
#include "fuzz_input.hpp"

namespace {

using muxio::ftp::LineReader;

// Takes every available result; lines as themselves, too_long as a marker no line can equal
// (lines never contain '\n').
void drain(LineReader& r, std::size_t max_line, std::vector<std::string>& out) {
  std::string line;
  while (true) {
    const auto s = r.next(&line);
    if (s == LineReader::Status::need_more) break;
    if (s == LineReader::Status::too_long) {
      out.emplace_back("\n<too_long>");
      continue;
    }
    FUZZ_CHECK(line.size() <= max_line);
    FUZZ_CHECK(line.find('\n') == std::string::npos);
    out.push_back(line);
  }
  FUZZ_CHECK(r.buffered() <= max_line + 1);  // once drained: only a partial line
}

void check_parse(const std::string& line) {
  const std::string stripped = muxio::ftp::strip_telnet(line);
  FUZZ_CHECK(stripped.size() <= line.size());
  const auto parsed = muxio::ftp::parse_command(stripped);
  FUZZ_CHECK(parsed.index() == muxio::ftp::parse_command_line(line).index());
  if (const auto* cmd = std::get_if<muxio::ftp::Command>(&parsed)) {
    FUZZ_CHECK(!cmd->verb.empty() && cmd->verb.size() <= 8);
    for (char c : cmd->verb)
      FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
    FUZZ_CHECK(cmd->arg.find('\0') == std::string::npos);
    // The argument is the verbatim rest of the line after one space.
    if (stripped.size() > cmd->verb.size()) {
      FUZZ_CHECK(stripped.substr(cmd->verb.size() + 1) == cmd->arg);
    } else {
      FUZZ_CHECK(cmd->arg.empty());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  muxio::ftp::fuzz::FuzzInput in(data, size);
  const std::size_t max_line = in.integral<std::uint8_t>();
  unsigned seed = in.integral<std::uint8_t>() | 1u;
  const std::string_view bytes = in.rest();

  LineReader whole(max_line);
  whole.feed(bytes);
  std::vector<std::string> expected;
  drain(whole, max_line, expected);

  LineReader chunked(max_line);
  std::vector<std::string> got;
  for (std::size_t pos = 0; pos < bytes.size();) {
    seed = seed * 1103515245u + 12345u;  // chunk sizes 1..16, decided by the input
    const std::size_t n = 1 + (seed >> 16) % 16;
    chunked.feed(bytes.substr(pos, n));
    pos += n;
    drain(chunked, max_line, got);
  }
  FUZZ_CHECK(got == expected);

  for (const auto& line : expected) {
    if (line != "\n<too_long>") check_parse(line);
  }
  check_parse(std::string(bytes));  // the parser on its own, without the reader's limits
  return 0;
}
