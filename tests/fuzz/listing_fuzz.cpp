// Fuzzes the listing formatters on fuzzer-built facts, and the MDTM codec.
// Invariants: a LIST or MLSx line never contains CR, LF or NUL (a name holding them would
// forge listing entries or, for MLST, control-connection replies); MLSx facts end at the first
// "; " and the name follows it; MDTM output is always 14 digits and parses back to itself.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "ftp/listing.hpp"
#include "ftp/time_format.hpp"
#include "fuzz_input.hpp"

namespace {

bool has_line_break(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

void check_mdtm(std::int64_t t, std::string_view text) {
  const std::string s = muxio::ftp::format_mdtm(t);
  FUZZ_CHECK(s.size() == 14);
  const auto back = muxio::ftp::parse_mdtm(s);
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(*back == std::clamp(t, muxio::ftp::kMinTimestamp, muxio::ftp::kMaxTimestamp));
  // Whatever text parses formats back to its first 14 characters (leap second 60 aside).
  if (auto parsed = muxio::ftp::parse_mdtm(text); parsed && text.substr(12, 2) != "60") {
    FUZZ_CHECK(muxio::ftp::format_mdtm(*parsed) == text.substr(0, 14));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  muxio::ftp::fuzz::FuzzInput in(data, size);
  muxio::ftp::FileFacts f{};
  f.type = static_cast<muxio::ftp::FileType>(in.integral<std::uint8_t>() % 4);
  f.size = in.integral<std::uint64_t>();
  f.mtime = in.integral<std::int64_t>();
  f.mode = in.integral<std::uint32_t>();
  f.nlink = in.integral<std::uint64_t>();
  const auto now = in.integral<std::int64_t>();
  f.name = in.field();
  f.owner = in.field();
  f.group = in.field();
  f.unique = in.field();
  const std::string_view perm = in.field();
  const std::string_view type_override = in.field();
  const std::string_view mdtm_text = in.rest();

  const std::string list = muxio::ftp::format_list_line(f, now);
  FUZZ_CHECK(!has_line_break(list));
  FUZZ_CHECK(list.size() >= 10 + f.name.size());

  const std::string mlsx = muxio::ftp::format_mlsx_line(f, perm, type_override);
  FUZZ_CHECK(!has_line_break(mlsx));
  const auto facts_end = mlsx.find("; ");
  FUZZ_CHECK(facts_end != std::string::npos);
  FUZZ_CHECK(mlsx.size() - (facts_end + 2) == f.name.size());
  FUZZ_CHECK(mlsx.compare(0, 5, "type=") == 0);

  check_mdtm(f.mtime, mdtm_text);
  return 0;
}
