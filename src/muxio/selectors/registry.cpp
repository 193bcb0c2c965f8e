// The one place that lists the backends: names for --io, descriptions for --help, factories.
// Adding a backend (sigio, uring) means one file beside this one and one row below.
#include <array>
#include <string>

#include "selectors/backends.hpp"

namespace muxio {
namespace {

using Factory = Result<std::unique_ptr<SelectorBackend>> (*)();

struct BackendEntry {
  BackendInfo info;
  Factory make;
};

Result<std::unique_ptr<SelectorBackend>> select_factory() {
  return make_select_backend();
}
Result<std::unique_ptr<SelectorBackend>> poll_factory() {
  return make_poll_backend();
}

const std::array<BackendEntry, 4> kBackends{{
    {{"epoll", "epoll(7), level-triggered: O(ready) waits, no descriptor limit"},
     make_epoll_backend},
    {{"epoll-et", "epoll(7), edge-triggered: reported once per change, read/write until EAGAIN"},
     make_epoll_et_backend},
    {{"poll", "poll(2): no descriptor limit, scans every descriptor per call"}, poll_factory},
    {{"select", "select(2): descriptors < FD_SETSIZE (1024) only, scans bit sets per call"},
     select_factory},
}};

const std::array<BackendInfo, 4> kInfos{kBackends[0].info, kBackends[1].info, kBackends[2].info,
                                        kBackends[3].info};

}  // namespace

std::span<const BackendInfo> backend_names() {
  return kInfos;
}

std::string backend_names_joined() {
  std::string s = "best";
  for (const auto& b : kInfos)
    s.append("|").append(b.name);
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
