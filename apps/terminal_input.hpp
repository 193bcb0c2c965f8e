// Reading a secret from the terminal without echo, shared by muxftp and muxftpd.
#pragma once

#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>

namespace muxio::apps {

// Prompts on stderr and reads a line from the terminal with echo off; nullopt when standard
// input is not a terminal (the caller decides what a pipe means).
inline std::optional<std::string> read_secret_from_terminal(const std::string& prompt) {
  if (!::isatty(STDIN_FILENO)) return std::nullopt;
  termios old{};
  ::tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  std::cerr << prompt << std::flush;
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::string line;
  std::getline(std::cin, line);
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::cerr << "\n";
  return line;
}

}  // namespace muxio::apps
