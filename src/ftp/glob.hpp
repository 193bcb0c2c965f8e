// FTP wildcards, as LIST and NLST take them (`NLST *.bin`, `LIST dir/report-??.txt`), so that
// `mget *.bin` in tnftp and `ncftpget host '/dir/*.bin'` work as they do against vsftpd.
//
//   *       any run of characters        ?      one character
//   [abc]   one of a set, [a-z] a range, [!a] or [^a] anything else; "[]" and "[!]" take ']' as
//           the set's first member; an unclosed '[' is a plain character
//   \x      x itself
//
// A leading '.' is matched only by a leading '.' in the pattern (hidden files stay hidden, as in
// a shell). Matching is byte-wise and costs at most O(pattern × name) steps whatever the pattern:
// the one-saved-star walk never backtracks further than the last '*', so no pattern can be made
// to take exponential time.
#pragma once

#include <string_view>

namespace muxio::ftp {

// True if s holds an unquoted '*', '?' or '['.
bool has_wildcards(std::string_view s);

// True if the whole of name matches pattern.
bool glob_match(std::string_view pattern, std::string_view name);

// "dir/sub/*.bin" -> directory "dir/sub/" and pattern "*.bin"; "*.bin" -> "" and "*.bin".
struct GlobTarget {
  std::string_view directory;  // as the client gave it, with its trailing '/', maybe empty
  std::string_view pattern;    // the last path component
};
GlobTarget split_glob_target(std::string_view arg);

}  // namespace muxio::ftp
