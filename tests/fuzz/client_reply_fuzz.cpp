// Fuzzes the parsers of what a server says to muxftp (SIZE and HASH replies, FEAT lists): any
// text from any server. Invariants: an accepted HASH reply has a range that does not run
// backwards and a lowercase hex digest; an accepted size is what the digits say.
#include <cstdint>
#include <string>
#include <string_view>

#include "ftp/client_reply.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  muxio::ftp::fuzz::FuzzInput in(data, size);
  const std::string_view text = in.rest();

  if (auto h = muxio::ftp::parse_hash_reply(text)) {
    FUZZ_CHECK(h->start <= h->end);
    FUZZ_CHECK(!h->algorithm.empty() && h->algorithm.find(' ') == std::string::npos);
    FUZZ_CHECK(!h->digest.empty());
    for (char c : h->digest)
      FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
  if (auto s = muxio::ftp::parse_size_reply(text)) {
    FUZZ_CHECK(std::to_string(*s).size() <= text.size());
  }
  muxio::ftp::Reply reply;
  reply.code = 211;
  reply.lines.emplace_back("211-Features:");
  reply.lines.emplace_back(text);
  reply.lines.emplace_back("211 End");
  for (const auto& [name, params] : muxio::ftp::parse_feat(reply))
    FUZZ_CHECK(!name.empty());
  return 0;
}
