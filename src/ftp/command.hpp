// Command parsing for the control connection: Telnet clean-up, then "VERB[ SP arg]".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace muxio::ftp {

// verb upper-cased ASCII; arg verbatim (spaces inside kept; a single space after the verb removed).
struct Command {
  std::string verb;
  std::string arg;
};

enum class ParseError { empty, bad_verb, nul_byte, too_long };

// parse_command refuses lines longer than this (the LineReader default), in case a caller built a
// line some other way.
inline constexpr std::size_t kMaxCommandLine = 4096;

// Telnet (RFC 854, which RFC 959 makes the control connection's protocol): strips IAC sequences.
// IAC IAC -> a literal 0xFF byte; IAC WILL/WONT/DO/DONT x -> dropped; IAC SB ... IAC SE ->
// dropped; IAC followed by any other byte (IP, DM, AO, AYT, ...) -> both dropped; a lone IAC at
// the end -> dropped. Clients send IAC IP, IAC DM before ABOR (RFC 959 §4.1.3).
std::string strip_telnet(std::string_view line);

// "tls" -> "TLS": ASCII letters upper-cased (arguments like TYPE a, PROT p, AUTH tls).
std::string ascii_upper(std::string_view s);

// Parses one line (terminator already removed, Telnet already stripped). The verb is 1..8 ASCII
// letters/digits ('X' aliases such as XMKD, MLSD, ...), upper-cased; it ends the line or is
// followed by one space and the argument. Anything else -> bad_verb. NUL anywhere -> nul_byte
// (it would truncate paths at the system call). Empty line -> empty.
std::variant<Command, ParseError> parse_command(std::string_view line);

// strip_telnet then parse_command: what a session does with each line of the LineReader.
std::variant<Command, ParseError> parse_command_line(std::string_view raw_line);

}  // namespace muxio::ftp
