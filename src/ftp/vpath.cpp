#include "ftp/vpath.hpp"

#include <vector>

namespace muxio::ftp {

namespace {

// Applies the components of `path` to `stack`, the components of the path resolved so far.
bool apply_components(std::string_view path, std::vector<std::string_view>& stack) {
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto part = path.substr(0, slash);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (part.size() > kMaxComponent) return false;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!stack.empty()) stack.pop_back();  // at the root, ".." is the root
      continue;
    }
    stack.push_back(part);
  }
  return true;
}

}  // namespace

Result<std::string> resolve_vpath(std::string_view cwd, std::string_view arg, std::size_t max_len) {
  if (cwd.find('\0') != std::string_view::npos || arg.find('\0') != std::string_view::npos) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  // Components are views into cwd and arg, which outlive this function's work.
  std::vector<std::string_view> stack;
  const bool absolute = !arg.empty() && arg.front() == '/';
  if (!absolute && !apply_components(cwd, stack)) {
    return std::make_error_code(std::errc::filename_too_long);
  }
  if (!apply_components(arg, stack)) return std::make_error_code(std::errc::filename_too_long);

  std::string out;
  for (auto part : stack) {
    out.push_back('/');
    out += part;
    if (out.size() > max_len) return std::make_error_code(std::errc::filename_too_long);
  }
  if (out.empty()) out = "/";
  if (out.size() > max_len) return std::make_error_code(std::errc::filename_too_long);
  return out;
}

std::string to_relative(std::string_view vpath) {
  while (!vpath.empty() && vpath.front() == '/')
    vpath.remove_prefix(1);
  if (vpath.empty()) return ".";
  return std::string(vpath);
}

std::string quote_path(std::string_view vpath) {
  std::string out;
  out.reserve(vpath.size() + 2);
  for (char c : vpath) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  return out;
}

}  // namespace muxio::ftp
