// The one place that lists the backends: names for --io, descriptions for --help, factories.
// Adding a backend means one file beside this one and one row below.
#include <array>
#include <string>
#include <vector>

#include "selectors/backends.hpp"

namespace muxio {
namespace {

using Factory = Result<std::unique_ptr<SelectorBackend>> (*)();

struct BackendEntry {
  BackendInfo info;
  Factory make;
};

template <std::unique_ptr<SelectorBackend> (*Make)()>
Result<std::unique_ptr<SelectorBackend>> infallible() {
  return Make();
}

const BackendEntry kBackends[] = {
    {{"epoll", "epoll(7), level-triggered: O(ready) waits, no descriptor limit"},
     make_epoll_backend},
    {{"epoll-et", "epoll(7), edge-triggered: reported once per change, read/write until EAGAIN"},
     make_epoll_et_backend},
    {{"poll", "poll(2): no descriptor limit, scans every descriptor per call"},
     infallible<make_poll_backend>},
    {{"select", "select(2): descriptors < FD_SETSIZE (1024) only, scans bit sets per call"},
     infallible<make_select_backend>},
    {{"sigio", "signal-driven IO: O_ASYNC + a real-time signal per loop, sigtimedwait(2)"},
     infallible<make_sigio_backend>},
    {{"uring", "io_uring: multishot POLL_ADD per descriptor, one submit-and-wait per iteration"},
     make_uring_backend},
};

}  // namespace

std::span<const BackendInfo> backend_names() {
  static const std::vector<BackendInfo> infos = [] {
    std::vector<BackendInfo> v;
    for (const auto& b : kBackends)
      v.push_back(b.info);
    return v;
  }();
  return infos;
}

std::string backend_names_joined() {
  std::string s = "best";
  for (const auto& b : kBackends)
    s.append("|").append(b.info.name);
  return s;
}

Result<std::unique_ptr<SelectorBackend>> make_backend(std::string_view name) {
  if (name == "best" || name.empty()) name = "epoll";
  for (const auto& b : kBackends) {
    if (b.info.name == name) return b.make();
  }
  return Error::unknown_backend;
}

}  // namespace muxio
