#include "muxio/log.hpp"

#include <cstdio>
#include <mutex>
#include <utility>

namespace muxio {
namespace {

std::mutex g_hook_mutex;
LogHook g_hook;  // guarded by g_hook_mutex; empty: stderr

void log_to_stderr(LogLevel level, std::string_view message) {
  const char* prefix = level == LogLevel::error ? "error" : "warning";
  std::fprintf(stderr, "muxio: %s: %.*s\n", prefix, static_cast<int>(message.size()),
               message.data());
}

}  // namespace

void set_log_hook(LogHook hook) {
  std::lock_guard lock(g_hook_mutex);
  g_hook = std::move(hook);
}

// Messages are rare (failures), so one lock per message costs nothing that matters, and the hook
// cannot be replaced while it runs.
void log_message(LogLevel level, std::string_view message) {
  std::lock_guard lock(g_hook_mutex);
  if (g_hook) {
    g_hook(level, message);
  } else {
    log_to_stderr(level, message);
  }
}

}  // namespace muxio
