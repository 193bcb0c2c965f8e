// Fuzzes the PORT and EPRT argument parsers. Whatever parses must format back into an argument
// that parses to the same address (the client formats, the server parses).
#include <cstdint>
#include <string>
#include <string_view>

#include "ftp/host_port.hpp"
#include "fuzz_input.hpp"

namespace {

void check_port(std::string_view arg) {
  auto a = muxio::ftp::parse_port_arg(arg);
  if (!a.ok()) {
    FUZZ_CHECK(a.error() == muxio::Error::bad_address);
    return;
  }
  FUZZ_CHECK(!a->is_v6() && a->port() != 0);
  const std::string again = muxio::ftp::format_port_arg(*a);
  FUZZ_CHECK(again.size() <= arg.size());  // formatting drops leading zeros, adds nothing
  auto b = muxio::ftp::parse_port_arg(again);
  FUZZ_CHECK(b.ok() && b->to_string() == a->to_string());
  const std::string pasv = muxio::ftp::format_pasv_reply_text(*a);
  FUZZ_CHECK(pasv == "Entering Passive Mode (" + again + ")");
}

void check_eprt(std::string_view arg) {
  auto a = muxio::ftp::parse_eprt_arg(arg);
  if (!a.ok()) {
    FUZZ_CHECK(a.error() == muxio::Error::bad_address);
    return;
  }
  FUZZ_CHECK(a->port() != 0);
  const char family = arg.size() > 1 ? arg[1] : 0;
  FUZZ_CHECK(a->is_v6() == (family == '2'));
  auto b = muxio::ftp::parse_eprt_arg(muxio::ftp::format_eprt_arg(*a));
  FUZZ_CHECK(b.ok() && b->to_string() == a->to_string());
  if (!a->is_v6()) {
    auto c = muxio::ftp::parse_port_arg(muxio::ftp::format_port_arg(*a));
    FUZZ_CHECK(c.ok() && c->to_string() == a->to_string());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view arg(reinterpret_cast<const char*>(data), size);
  check_port(arg);
  check_eprt(arg);
  // The EPSV text carries any port through unchanged.
  muxio::ftp::fuzz::FuzzInput in(data, size);
  const auto port = in.integral<std::uint16_t>();
  FUZZ_CHECK(muxio::ftp::format_epsv_reply_text(port) ==
             "Entering Extended Passive Mode (|||" + std::to_string(port) + "|)");
  return 0;
}
