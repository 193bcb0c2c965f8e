// Fuzzes glob_match. Input: pattern \0 name. Invariants: for short inputs the answer equals a
// plain recursive matcher's (the definition, exponential, so only run where that is cheap); a
// name quoted character by character matches itself; "*" matches every name not starting with
// '.'; a pattern without wildcards matches exactly the equal name.
#include <cstdint>
#include <string>
#include <string_view>

#include "ftp/glob.hpp"
#include "fuzz_input.hpp"

namespace {

// The set [..] starting at p (pattern[p] == '['): sets *end past ']' and returns membership.
bool reference_set(std::string_view pat, std::size_t p, char c, std::size_t* end) {
  std::size_t i = p + 1;
  bool negated = i < pat.size() && (pat[i] == '!' || pat[i] == '^');
  if (negated) ++i;
  std::size_t first = i;
  bool found = false;
  for (; i < pat.size(); ++i) {
    if (pat[i] == ']' && i != first) {
      *end = i + 1;
      return found != negated;
    }
    auto u = static_cast<unsigned char>(c);
    if (i + 2 < pat.size() && pat[i + 1] == '-' && !(pat[i + 2] == ']' && i + 2 != first)) {
      found = found || (static_cast<unsigned char>(pat[i]) <= u &&
                        u <= static_cast<unsigned char>(pat[i + 2]));
      i += 2;
    } else {
      found = found || pat[i] == c;
    }
  }
  *end = std::string_view::npos;  // unclosed: '[' is literal
  return false;
}

bool reference(std::string_view pat, std::string_view name) {
  if (pat.empty()) return name.empty();
  if (pat[0] == '*') {
    for (std::size_t k = 0; k <= name.size(); ++k) {
      if (reference(pat.substr(1), name.substr(k))) return true;
    }
    return false;
  }
  if (name.empty()) return false;
  if (pat[0] == '?') return reference(pat.substr(1), name.substr(1));
  if (pat[0] == '[') {
    std::size_t end = 0;
    bool in = reference_set(pat, 0, name[0], &end);
    if (end != std::string_view::npos) return in && reference(pat.substr(end), name.substr(1));
  }
  if (pat[0] == '\\' && pat.size() > 1) {
    return pat[1] == name[0] && reference(pat.substr(2), name.substr(1));
  }
  return pat[0] == name[0] && reference(pat.substr(1), name.substr(1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  muxio::ftp::fuzz::FuzzInput in(data, size);
  const std::string_view pattern = in.field();
  const std::string_view name = in.rest();
  using muxio::ftp::glob_match;

  const bool got = glob_match(pattern, name);
  const bool hidden =
      !name.empty() && name.front() == '.' && (pattern.empty() || pattern.front() != '.');
  if (pattern.size() <= 10 && name.size() <= 12) {
    FUZZ_CHECK(got == (!hidden && reference(pattern, name)));
  }
  if (!muxio::ftp::has_wildcards(pattern) && pattern.find('\\') == std::string_view::npos) {
    FUZZ_CHECK(got == (pattern == name));
  }
  std::string quoted;
  for (char c : name) {
    quoted += '\\';
    quoted += c;
  }
  if (!name.empty() && name.front() != '.') {
    FUZZ_CHECK(glob_match(quoted, name));
    FUZZ_CHECK(glob_match("*", name));
  }
  return 0;
}
