// The factories of the backends, one per file in this folder; registry.cpp lists them.
#pragma once

#include <memory>

#include "muxio/selector.hpp"

namespace muxio {

std::unique_ptr<SelectorBackend> make_select_backend();
std::unique_ptr<SelectorBackend> make_poll_backend();
std::unique_ptr<SelectorBackend> make_sigio_backend();
Result<std::unique_ptr<SelectorBackend>> make_epoll_backend();
Result<std::unique_ptr<SelectorBackend>> make_epoll_et_backend();
Result<std::unique_ptr<SelectorBackend>> make_uring_backend();

}  // namespace muxio
