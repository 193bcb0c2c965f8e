// Fuzzes the PROXY protocol header parser: never reads past the header it reports, stays within
// its bounds, gives the same answer for any split of the bytes, and what it parses formats back
// into a header that parses to the same addresses.
#include <cstdint>
#include <string>
#include <string_view>

#include "ftp/proxy_header.hpp"
#include "fuzz_input.hpp"

using muxio::ftp::ProxyParse;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto p = muxio::ftp::parse_proxy_header(bytes);
  if (p.status == ProxyParse::Status::invalid) {
    FUZZ_CHECK(!p.error.empty());
    FUZZ_CHECK(muxio::ftp::proxy_header_wanted(bytes) == 0);
  }
  if (p.status == ProxyParse::Status::incomplete) {
    FUZZ_CHECK(size < muxio::ftp::kProxyV2HeaderSize + muxio::ftp::kProxyV2MaxPayload);
    FUZZ_CHECK(muxio::ftp::proxy_header_wanted(bytes) >= 1);
  }
  if (p.status != ProxyParse::Status::complete) return 0;
  const auto& h = p.header;
  FUZZ_CHECK(h.size >= 15 && h.size <= size);
  FUZZ_CHECK(h.version == 1 || h.version == 2);
  if (h.version == 1) FUZZ_CHECK(h.size <= muxio::ftp::kProxyV1MaxLine);
  // The header alone parses the same, and every proper prefix of it is incomplete.
  const auto alone = muxio::ftp::parse_proxy_header(bytes.substr(0, h.size));
  FUZZ_CHECK(alone.status == ProxyParse::Status::complete && alone.header.size == h.size);
  for (std::size_t n = 0; n < h.size; ++n) {
    FUZZ_CHECK(muxio::ftp::parse_proxy_header(bytes.substr(0, n)).status ==
               ProxyParse::Status::incomplete);
  }
  if (!h.has_addresses) return 0;
  FUZZ_CHECK(h.source.family() == h.destination.family());
  const std::string again =
      h.version == 1 ? muxio::ftp::format_proxy_v1(h) : muxio::ftp::format_proxy_v2(h);
  const auto q = muxio::ftp::parse_proxy_header(again);
  FUZZ_CHECK(q.status == ProxyParse::Status::complete && q.header.size == again.size());
  FUZZ_CHECK(q.header.source.to_string() == h.source.to_string());
  FUZZ_CHECK(q.header.destination.to_string() == h.destination.to_string());
  return 0;
}
