#include "muxio/loop_thread.hpp"

#include <cstdlib>
#include <string>

#include "muxio/log.hpp"

namespace muxio {

void LoopThread::fail(const char* call) {
  log_message(LogLevel::error, std::string(call) +
                                   " called from another thread than its loop's: only stop() and "
                                   "call_soon_threadsafe() may be");
  std::abort();
}

}  // namespace muxio
