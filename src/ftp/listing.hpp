// Directory listing lines: LIST (the `ls -l` form clients parse) and MLSD/MLST (RFC 3659 facts).
//
// Names with CR or LF: the server refuses to create them, but a directory may already hold one
// (made outside FTP). A line must never contain CR or LF — on the control connection (MLST) that
// would inject a reply, in a listing it would fake an entry — so the formatters replace CR, LF and
// NUL in names by '?', as `ls -q` does. Such an entry is shown but cannot be named back exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace muxio::ftp {

// A name fit for one listing line: CR, LF and NUL become '?'. For NLST and MLSD, whose names
// clients use to fetch the files, so everything else is kept exact.
std::string safe_name(std::string_view name);
// A name for a LIST line, which people read: every control character (C0 and DEL) becomes '?',
// as `ls -q` shows names on a terminal, so a file name cannot carry terminal escape sequences to
// a user's screen.
std::string displayable_name(std::string_view name);

enum class FileType { file, dir, link, other };

struct FileFacts {
  std::string name;
  FileType type;
  std::uint64_t size;
  std::int64_t mtime;  // unix seconds UTC
  std::uint32_t mode;  // st_mode permission bits (the S_IFMT bits, if present, refine `other`)
  std::uint64_t nlink;
  std::string owner;
  std::string group;
  std::string unique;  // e.g. dev-ino hex
};

// Six months as GNU ls counts them (half of an average Gregorian year), and the future slack.
inline constexpr std::int64_t kRecentPast = 15778476;
inline constexpr std::int64_t kRecentFuture = 3600;

// "drwxr-xr-x    2 ftp      ftp          4096 Nov 23 12:34 name". Times (UTC, English month
// names whatever the locale) older than six months or more than one hour after `now` show the
// year instead of HH:MM ("Nov 23  2025"). Owner/group: whitespace and control characters become
// '_', and an empty one is shown as "ftp", so the columns always split. No trailing CRLF.
std::string format_list_line(const FileFacts& f, std::int64_t now);

// The facts a client may select with OPTS MLST (RFC 3659 §7.9); all are on until it does.
enum MlstFact : unsigned {
  kFactType = 1,
  kFactSize = 2,
  kFactModify = 4,
  kFactPerm = 8,
  kFactUnique = 16,
  kAllMlstFacts = 31,
};
// "type;size;" (any case) -> the mask; unknown names are ignored, as §7.9 asks, and an empty
// list selects none.
unsigned parse_mlst_facts(std::string_view list);
// The mask's names, each followed by ';' ("type;size;"): the OPTS MLST reply. With `starred`,
// every supported fact, the selected ones marked '*': the FEAT line's form.
std::string mlst_fact_names(unsigned mask, bool starred = false);

// RFC 3659 facts: "type=file;size=1234;modify=20261123123456;perm=adfrw;unique=801g1a; name".
// type is file, dir, OS.unix=symlink or OS.unix=special, unless `type_override` is given ("cdir",
// "pdir"); size is given for files only; unique is left out when empty. perm comes from the
// caller (the server knows the user's rights). Fact values lose ';', spaces and control
// characters. Note the single space before the name. No trailing CRLF. For MLST on the control
// connection, the server prefixes the line with one more space (RFC 3659 §7.2).
// `facts` selects which facts are written (OPTS MLST).
std::string format_mlsx_line(const FileFacts& f, std::string_view perm,
                             std::string_view type_override = {}, unsigned facts = kAllMlstFacts);

}  // namespace muxio::ftp
