// Where the library reports what it cannot hand back to a caller: a failed wait of the loop, an
// exception of a task nobody holds, requests the kernel kept at teardown. A program routes these
// to its own logger with set_log_hook; until then they go to stderr, one line each.
#pragma once

#include <functional>
#include <string_view>

namespace muxio {

enum class LogLevel { warning, error };

using LogHook = std::function<void(LogLevel level, std::string_view message)>;

// Replaces the hook; an empty one restores stderr. Thread-safe, but meant for start-up: a hook
// must not call set_log_hook itself, and may be called from any loop's thread at once.
void set_log_hook(LogHook hook);

// Reports message (without a trailing newline) through the hook.
void log_message(LogLevel level, std::string_view message);

}  // namespace muxio
