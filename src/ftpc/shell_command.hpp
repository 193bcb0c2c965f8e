// What one line typed at muxftp's shell means: the command table (names, aliases, argument
// counts, help) and the parser that turns a line into a command and its words. Pure functions,
// unit-tested; the shell (shell.hpp) runs what they return.
//
// Words are split at blanks, as a POSIX shell would for the simple cases: "a b" and 'a b' keep a
// blank inside a word ('...' literally, "..." with \" and \\), a backslash outside quotes takes
// the next character as it is. An unquoted '&' ending the line runs the command in the background
// (get, put, mget, mput); anywhere else '&' is an ordinary character of a file name. A line whose
// first word starts with '#' is a comment.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace muxio::ftpc {

enum class ShellVerb {
  open,
  user,
  close,
  ls,
  cd,
  pwd,
  lcd,
  get,
  put,
  mget,
  mput,
  mkdir,
  rm,
  rename,
  binary,
  ascii,
  passive,
  active,
  status,
  jobs,
  wait,
  kill,
  help,
  quit,
};

struct ShellCommandInfo {
  ShellVerb verb;
  std::string_view name;
  std::string_view aliases;  // blank-separated
  std::size_t min_args;
  std::size_t max_args;  // SIZE_MAX: any number
  bool can_background;   // accepts a trailing '&'
  std::string_view usage;
  std::string_view summary;
};

// Every command, in the order `help` lists them.
std::span<const ShellCommandInfo> shell_commands();
// By name or alias; nullptr when there is no such command.
const ShellCommandInfo* find_shell_command(std::string_view name);

struct ShellWords {
  std::vector<std::string> words;
  bool background = false;  // the line ended with an unquoted '&'
};
// Splits a line into words; nullopt and *error set for an unterminated quote or a trailing
// backslash.
std::optional<ShellWords> split_shell_words(std::string_view line, std::string* error);

struct ShellCommand {
  const ShellCommandInfo* info = nullptr;  // nullptr: an empty line or a comment
  std::vector<std::string> args;           // the words after the command's name
  bool background = false;
};
// A line as a command, its arguments checked against the table; nullopt and *error set ("no
// such command", the usage line when the argument count is wrong, '&' where it is not allowed).
std::optional<ShellCommand> parse_shell_line(std::string_view line, std::string* error);

// What history keeps of a line: nullopt for a line that carries a password (user NAME PASS, open
// with a URL holding one), so that ~/.muxftp_history never stores one.
std::optional<std::string> history_entry(std::string_view line);

// `help`: one line per command; `help CMD`: its usage, aliases and summary.
std::string shell_help();
std::string shell_help(const ShellCommandInfo& info);

}  // namespace muxio::ftpc
