// Fuzzes the TYPE A converters: converting in input-chosen chunks must equal converting at once,
// LF -> CRLF output has no bare LF, and the sizes change by exactly the line ends converted.
#include <cstdint>
#include <string>
#include <string_view>

#include "ftp/ascii_codec.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  muxio::ftp::fuzz::FuzzInput in(data, size);
  unsigned seed = in.integral<std::uint8_t>() | 1u;
  const std::string_view text = in.rest();

  std::string to_whole, from_whole;
  {
    muxio::ftp::ToNetworkAscii to;
    to.convert(text, to_whole);
    muxio::ftp::FromNetworkAscii from;
    from.convert(text, from_whole);
    from.finish(from_whole);
  }

  muxio::ftp::ToNetworkAscii to;
  muxio::ftp::FromNetworkAscii from;
  std::string to_chunked, from_chunked;
  for (std::size_t pos = 0; pos < text.size();) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t n = (seed >> 16) % 8;  // empty chunks included
    to.convert(text.substr(pos, n), to_chunked);
    from.convert(text.substr(pos, n), from_chunked);
    pos += n;
  }
  from.finish(from_chunked);
  FUZZ_CHECK(to_chunked == to_whole);
  FUZZ_CHECK(from_chunked == from_whole);

  // Sizes: sending adds one CR per LF that lacked one; receiving removes one CR per CRLF.
  std::size_t bare_lf = 0, crlf = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n') continue;
    if (i > 0 && text[i - 1] == '\r') {
      ++crlf;
    } else {
      ++bare_lf;
    }
  }
  FUZZ_CHECK(to_whole.size() == text.size() + bare_lf);
  FUZZ_CHECK(from_whole.size() == text.size() - crlf);
  for (std::size_t i = 0; i < to_whole.size(); ++i) {
    if (to_whole[i] == '\n') FUZZ_CHECK(i > 0 && to_whole[i - 1] == '\r');
  }
  return 0;
}
