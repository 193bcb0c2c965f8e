#include "ftpc/shell_command.hpp"

#include <cstdint>

#include "ftpc/url.hpp"

namespace muxio::ftpc {

namespace {

constexpr std::size_t kAny = SIZE_MAX;

// clang-format off
constexpr ShellCommandInfo kCommands[] = {
  {ShellVerb::open, "open", "", 1, 1, false, "open URL|HOST[:PORT]",
   "connect to a server and log in (credentials: the URL, ~/.netrc, a prompt, anonymous)"},
  {ShellVerb::user, "user", "login", 1, 2, false, "user NAME [PASSWORD]",
   "log in again as NAME (the password is asked for, unechoed, when not given)"},
  {ShellVerb::close, "close", "disconnect", 0, 0, false, "close", "disconnect from the server"},
  {ShellVerb::ls, "ls", "dir", 0, 1, false, "ls [PATH]", "list a remote directory"},
  {ShellVerb::cd, "cd", "cwd", 1, 1, false, "cd PATH", "change the remote directory"},
  {ShellVerb::pwd, "pwd", "", 0, 0, false, "pwd", "print the remote directory"},
  {ShellVerb::lcd, "lcd", "", 0, 1, false, "lcd [DIR]",
   "change the local directory (home when no DIR)"},
  {ShellVerb::get, "get", "recv", 1, 2, true, "get REMOTE [LOCAL] [&]", "download a file"},
  {ShellVerb::put, "put", "send", 1, 2, true, "put LOCAL [REMOTE] [&]", "upload a file"},
  {ShellVerb::mget, "mget", "", 1, kAny, true, "mget PATTERN... [&]",
   "download files (globs in the last path segment), -j at once"},
  {ShellVerb::mput, "mput", "", 1, kAny, true, "mput PATTERN... [&]",
   "upload local files (globs), -j at once"},
  {ShellVerb::mkdir, "mkdir", "", 1, 1, false, "mkdir PATH", "make a remote directory"},
  {ShellVerb::rm, "rm", "delete rmdir", 1, 1, false, "rm PATH",
   "delete a remote file (or an empty directory)"},
  {ShellVerb::rename, "rename", "mv", 2, 2, false, "rename FROM TO", "rename a remote file"},
  {ShellVerb::binary, "binary", "bin", 0, 0, false, "binary",
   "transfer files byte for byte (TYPE I, the default)"},
  {ShellVerb::ascii, "ascii", "", 0, 0, false, "ascii",
   "transfer text: TYPE A, CRLF on the wire, local line ends converted (no resume)"},
  {ShellVerb::passive, "passive", "", 0, 0, false, "passive",
   "the server opens the data ports (EPSV/PASV, the default)"},
  {ShellVerb::active, "active", "", 0, 0, false, "active", "this side opens them (EPRT/PORT)"},
  {ShellVerb::status, "status", "", 0, 0, false, "status",
   "server, user, directories, modes and background transfers"},
  {ShellVerb::jobs, "jobs", "", 0, 0, false, "jobs", "background transfers and their progress"},
  {ShellVerb::wait, "wait", "", 0, 1, false, "wait [N]",
   "wait for background transfer N, or for all of them"},
  {ShellVerb::kill, "kill", "", 1, 1, false, "kill N", "stop background transfer N"},
  {ShellVerb::help, "help", "?", 0, 1, false, "help [COMMAND]", "this list, or one command"},
  {ShellVerb::quit, "quit", "exit bye", 0, 0, false, "quit",
   "leave (after background transfers finish; Ctrl-C stops them)"},
};
// clang-format on

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool only_blanks(std::string_view s) {
  for (char c : s)
    if (!is_blank(c)) return false;
  return true;
}

bool names(const ShellCommandInfo& info, std::string_view name) {
  if (info.name == name) return true;
  std::string_view rest = info.aliases;
  while (!rest.empty()) {
    std::size_t blank = rest.find(' ');
    if (rest.substr(0, blank) == name) return true;
    if (blank == std::string_view::npos) break;
    rest.remove_prefix(blank + 1);
  }
  return false;
}

}  // namespace

std::span<const ShellCommandInfo> shell_commands() {
  return kCommands;
}

const ShellCommandInfo* find_shell_command(std::string_view name) {
  for (const auto& info : kCommands)
    if (names(info, name)) return &info;
  return nullptr;
}

std::optional<ShellWords> split_shell_words(std::string_view line, std::string* error) {
  ShellWords out;
  std::string word;
  bool in_word = false;  // also true for an empty quoted word ("")
  auto end_word = [&] {
    if (in_word) out.words.push_back(word);
    word.clear();
    in_word = false;
  };
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (is_blank(c)) {
      end_word();
    } else if (c == '\\') {
      if (i + 1 == line.size()) {
        *error = "a backslash at the end of the line";
        return std::nullopt;
      }
      word += line[++i];
      in_word = true;
    } else if (c == '\'' || c == '"') {
      std::size_t close = i + 1;
      in_word = true;
      for (; close < line.size() && line[close] != c; ++close) {
        if (c == '"' && line[close] == '\\' && close + 1 < line.size() &&
            (line[close + 1] == '"' || line[close + 1] == '\\')) {
          ++close;
        }
        word += line[close];
      }
      if (close == line.size()) {
        *error = std::string("no closing ") + c;
        return std::nullopt;
      }
      i = close;
    } else if (c == '&' && only_blanks(line.substr(i + 1))) {
      end_word();
      out.background = true;
      break;
    } else {
      word += c;
      in_word = true;
    }
  }
  end_word();
  return out;
}

std::optional<ShellCommand> parse_shell_line(std::string_view line, std::string* error) {
  auto split = split_shell_words(line, error);
  if (!split) return std::nullopt;
  ShellCommand cmd;
  if (split->words.empty() || split->words[0].starts_with('#')) {
    if (split->background && split->words.empty()) {
      *error = "nothing to run in the background";
      return std::nullopt;
    }
    return cmd;
  }
  const std::string& name = split->words[0];
  cmd.info = find_shell_command(name);
  if (cmd.info == nullptr) {
    *error = name + ": no such command (help lists them)";
    return std::nullopt;
  }
  cmd.args.assign(split->words.begin() + 1, split->words.end());
  cmd.background = split->background;
  if (cmd.background && !cmd.info->can_background) {
    *error = std::string(cmd.info->name) + ": cannot run in the background";
    return std::nullopt;
  }
  if (cmd.args.size() < cmd.info->min_args || cmd.args.size() > cmd.info->max_args) {
    *error = "usage: " + std::string(cmd.info->usage);
    return std::nullopt;
  }
  return cmd;
}

std::optional<std::string> history_entry(std::string_view line) {
  std::string error;
  auto cmd = parse_shell_line(line, &error);
  if (cmd && cmd->info != nullptr) {
    if (cmd->info->verb == ShellVerb::user && cmd->args.size() > 1) return std::nullopt;
    if (cmd->info->verb == ShellVerb::open) {
      auto url = parse_url(cmd->args[0], &error);
      if (url && url->has_password) return std::nullopt;
    }
  }
  return std::string(line);
}

std::string shell_help() {
  std::string out;
  for (const auto& info : kCommands) {
    std::string usage(info.usage);
    if (usage.size() < 26) usage.resize(26, ' ');
    out += "  " + usage + "  " + std::string(info.summary) + "\n";
  }
  return out;
}

std::string shell_help(const ShellCommandInfo& info) {
  std::string out = "usage: " + std::string(info.usage) + "\n  " + std::string(info.summary) + "\n";
  if (!info.aliases.empty()) out += "  also: " + std::string(info.aliases) + "\n";
  return out;
}

}  // namespace muxio::ftpc
