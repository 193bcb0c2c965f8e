// Reply formatting (RFC 959 §4.2). Every byte a client sees on the control connection goes through
// here, so this is where reply injection is stopped: CR and NUL never pass, and LF only ever
// appears as part of the CRLF this code writes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace muxio::ftp {

// "230 text\r\n". Text with embedded '\n' becomes a multi-line reply: "211-first\r\n", middle
// lines, "211 last\r\n"; a middle line that starts with a digit or is empty is prefixed by a
// space, so a client cannot mistake it for the end. Trailing '\n's are ignored. CR and NUL in the
// text are removed. `code` is a three-digit reply code (100..599).
std::string format_reply(int code, std::string_view text);

// Multi-line reply with explicit lines (FEAT, HELP, STAT, MLST): "code-first\r\n", each body line
// as given, "code last\r\n". Body lines that already start with a space (FEAT's " MDTM", MLST's
// " type=...") are kept; one that is empty or starts with a digit gets a leading space. Each
// element is one line: CR and NUL are removed and LF becomes a space, in every part.
std::string format_multiline(int code, std::string_view first, const std::vector<std::string>& body,
                             std::string_view last);

}  // namespace muxio::ftp
