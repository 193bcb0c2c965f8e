#include "ftp/glob.hpp"

#include <cstddef>

namespace muxio::ftp {

namespace {

constexpr std::size_t kNone = std::string_view::npos;

// The end of the set that starts at pattern[open] == '[' (the index after its ']'), or kNone if
// it is not closed (then the '[' is a plain character).
std::size_t set_end(std::string_view pattern, std::size_t open) {
  std::size_t i = open + 1;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) ++i;
  if (i < pattern.size() && pattern[i] == ']') ++i;  // "[]...]": ']' is a member
  for (; i < pattern.size(); ++i) {
    if (pattern[i] == ']') return i + 1;
  }
  return kNone;
}

bool set_has(std::string_view set, char c) {  // set: between '[' and ']', negation included
  bool negated = !set.empty() && (set[0] == '!' || set[0] == '^');
  if (negated) set.remove_prefix(1);
  bool found = false;
  for (std::size_t i = 0; i < set.size(); ++i) {
    const auto lo = static_cast<unsigned char>(set[i]);
    if (i + 2 < set.size() && set[i + 1] == '-') {
      const auto hi = static_cast<unsigned char>(set[i + 2]);
      const auto u = static_cast<unsigned char>(c);
      found = found || (lo <= u && u <= hi);
      i += 2;
    } else {
      found = found || set[i] == c;
    }
  }
  return found != negated;
}

// Matches one pattern element (not '*') at pattern[p] against c; on success *next is the index
// after the element.
bool match_one(std::string_view pattern, std::size_t p, char c, std::size_t* next) {
  const char e = pattern[p];
  if (e == '?') {
    *next = p + 1;
    return true;
  }
  if (e == '[') {
    const std::size_t end = set_end(pattern, p);
    if (end != kNone) {
      *next = end;
      return set_has(pattern.substr(p + 1, end - p - 2), c);
    }
  }
  if (e == '\\' && p + 1 < pattern.size()) {
    *next = p + 2;
    return pattern[p + 1] == c;
  }
  *next = p + 1;
  return e == c;
}

}  // namespace

bool has_wildcards(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '*' || s[i] == '?' || s[i] == '[') {
      return true;
    }
  }
  return false;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  if (!name.empty() && name.front() == '.' && (pattern.empty() || pattern.front() != '.')) {
    return false;
  }
  std::size_t p = 0;
  std::size_t n = 0;
  std::size_t star_p = kNone;  // the element after the last '*' seen
  std::size_t star_n = 0;      // where in name that '*' starts its next try
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_n = n;
      continue;
    }
    std::size_t next = 0;
    if (p < pattern.size() && match_one(pattern, p, name[n], &next)) {
      p = next;
      ++n;
      continue;
    }
    if (star_p == kNone) return false;
    p = star_p;  // the last '*' takes one more character, and the rest is tried again
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

GlobTarget split_glob_target(std::string_view arg) {
  const std::size_t slash = arg.rfind('/');
  if (slash == std::string_view::npos) return {{}, arg};
  return {arg.substr(0, slash + 1), arg.substr(slash + 1)};
}

}  // namespace muxio::ftp
