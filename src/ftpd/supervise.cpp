#include "ftpd/supervise.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace muxio::ftpd {

namespace {

bool parse_number(const char* s, long& out) {
  if (s == nullptr || *s == '\0') return false;
  auto end = s + std::strlen(s);
  auto [p, ec] = std::from_chars(s, end, out);
  return ec == std::errc() && p == end;
}

}  // namespace

bool sd_notify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return false;
  std::size_t len = std::strlen(path);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace: no terminating NUL
  auto addr_len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len + (path[0] == '@' ? 0 : 1));
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                       reinterpret_cast<const sockaddr*>(&addr), addr_len);
  ::close(fd);
  return n == static_cast<ssize_t>(state.size());
}

std::vector<InheritedSocket> take_listen_fds(std::string* error) {
  std::vector<InheritedSocket> out;
  const char* pid_text = std::getenv("LISTEN_PID");
  const char* fds_text = std::getenv("LISTEN_FDS");
  if (fds_text == nullptr) return out;
  long pid = 0;
  long count = 0;
  bool ours = parse_number(pid_text, pid) && pid == static_cast<long>(::getpid());
  std::string names = std::getenv("LISTEN_FDNAMES") ? std::getenv("LISTEN_FDNAMES") : "";
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!ours) return out;  // meant for another process (our parent)
  if (!parse_number(fds_text, count) || count < 0 || count > 1024) {
    *error = "LISTEN_FDS: not a number of descriptors: '" + std::string(fds_text) + "'";
    return out;
  }
  std::size_t start = 0;
  for (long i = 0; i < count; ++i) {
    std::string name;
    if (start <= names.size() && !names.empty()) {
      auto colon = names.find(':', start);
      name = names.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      start = colon == std::string::npos ? names.size() + 1 : colon + 1;
    }
    out.push_back({static_cast<int>(3 + i), name});
  }
  return out;
}

}  // namespace muxio::ftpd
