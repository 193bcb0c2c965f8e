// Fuzzes resolve_vpath. Input: [max_len byte pair] cwd-source \0 arg.
// cwd-source is first resolved against "/" to obtain a valid cwd (as the server's always is).
// Invariants of every accepted result: starts with '/', no "//", no "." or ".." component, no
// trailing '/' (except "/"), components <= 255 bytes, length <= max_len, no NUL; and resolving
// it again changes nothing.
#include <cstdint>
#include <string>
#include <string_view>

#include "ftp/vpath.hpp"
#include "fuzz_input.hpp"

namespace {

void check_normalised(const std::string& p, std::size_t max_len) {
  FUZZ_CHECK(!p.empty() && p.front() == '/');
  FUZZ_CHECK(p.size() <= max_len);
  FUZZ_CHECK(p.find('\0') == std::string::npos);
  FUZZ_CHECK(p.find("//") == std::string::npos);
  if (p == "/") return;
  FUZZ_CHECK(p.back() != '/');
  // Walk the components.
  std::string_view rest(p);
  rest.remove_prefix(1);
  while (true) {
    const auto slash = rest.find('/');
    const auto part = rest.substr(0, slash);
    FUZZ_CHECK(!part.empty() && part != "." && part != "..");
    FUZZ_CHECK(part.size() <= muxio::ftp::kMaxComponent);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  muxio::ftp::fuzz::FuzzInput in(data, size);
  const std::size_t max_len = 1 + in.integral<std::uint16_t>() % 8192;
  const std::string_view cwd_source = in.field();
  const std::string_view arg = in.rest();

  auto cwd = muxio::ftp::resolve_vpath("/", cwd_source, max_len);
  if (!cwd.ok()) return 0;
  check_normalised(*cwd, max_len);

  auto r = muxio::ftp::resolve_vpath(*cwd, arg, max_len);
  if (arg.find('\0') != std::string_view::npos) {
    FUZZ_CHECK(!r.ok() && r.error() == std::errc::invalid_argument);
    return 0;
  }
  if (!r.ok()) {
    FUZZ_CHECK(r.error() == std::errc::filename_too_long);
    return 0;
  }
  check_normalised(*r, max_len);

  // Idempotent, from anywhere.
  auto again = muxio::ftp::resolve_vpath(*cwd, *r, max_len);
  FUZZ_CHECK(again.ok() && *again == *r);
  // to_relative never escapes: no leading '/', and "." only for the root.
  const std::string rel = muxio::ftp::to_relative(*r);
  FUZZ_CHECK(!rel.empty() && rel.front() != '/');
  FUZZ_CHECK((rel == ".") == (*r == "/"));
  // quote_path doubles quotes and nothing else.
  const std::string q = muxio::ftp::quote_path(*r);
  std::size_t quotes = 0;
  for (char c : *r)
    quotes += c == '"';
  FUZZ_CHECK(q.size() == r->size() + quotes);
  return 0;
}
