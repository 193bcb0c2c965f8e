// Selector: Python's `selectors` module in C++.
//
// A Selector watches a set of file descriptors for readiness. register_fd() binds an fd to the
// events of interest and an opaque `data` pointer (Python's `key.data`, usually the handler);
// select() blocks until some are ready and returns (key, mask) pairs. The mechanism underneath is
// a backend chosen by name — select, poll, epoll, epoll-et, sigio (signal-driven) or uring
// (io_uring; also a proactor, see completion.hpp) — so every IO model runs the same program. Owned
// by one thread (normally by its EventLoop); not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "muxio/completion.hpp"
#include "muxio/events.hpp"
#include "muxio/result.hpp"

namespace muxio {

struct SelectorKey {
  int fd = -1;
  Events events = 0;  // the events of interest, kReadable | kWritable
  void* data = nullptr;
};

struct ReadyEvent {
  SelectorKey key;  // a copy taken when select() returned
  Events mask;      // ready events: a subset of key.events, plus kError / kHangup
};

// One backend's raw answer: descriptor and ready mask.
struct FdEvent {
  int fd;
  Events mask;
};

// The mechanism under a Selector. A backend knows nothing of keys, callbacks or coroutines: it
// only maps interest changes and waits. Each lives in src/muxio/selectors/<name>.cpp.
class SelectorBackend {
 public:
  virtual ~SelectorBackend() = default;
  virtual std::string_view name() const = 0;
  // Edge-triggered backends report a descriptor once per change of state; the user must read or
  // write until EAGAIN before waiting again.
  virtual bool edge_triggered() const { return false; }
  // Whether an eventfd can be watched (signal-driven IO cannot: eventfd has no O_ASYNC).
  virtual bool watches_eventfd() const { return true; }
  // Whether kPeerClosed is reported. Edge-triggered readers rely on it: a short read proves the
  // buffer drained only if a FIN that came with the data would have been announced.
  virtual bool reports_peer_closed() const { return false; }
  // Backends that can perform operations themselves (io_uring) return their proactor.
  virtual Proactor* proactor() { return nullptr; }
  // old_events == 0 adds fd; new_events == 0 removes it; otherwise changes its interest.
  virtual std::error_code modify(int fd, Events old_events, Events new_events) = 0;
  // Waits at most `timeout` (negative: forever) and appends ready descriptors to `out`. An
  // interrupted wait returns EINTR (the Selector retries with the time left).
  virtual std::error_code poll(std::chrono::nanoseconds timeout, std::vector<FdEvent>& out) = 0;
};

struct BackendInfo {
  std::string_view name;
  std::string_view description;
};

// Every backend name make_selector() knows, in order of preference; "best" is not listed.
std::span<const BackendInfo> backend_names();
// The names joined with '|', for --help texts.
std::string backend_names_joined();

// Creates the backend called `name` ("best" picks epoll on Linux).
Result<std::unique_ptr<SelectorBackend>> make_backend(std::string_view name);

class Selector {
 public:
  explicit Selector(std::unique_ptr<SelectorBackend> backend);
  ~Selector();
  Selector(const Selector&) = delete;
  Selector& operator=(const Selector&) = delete;

  // Python's register(): fails with EEXIST if fd is registered, EINVAL for empty events.
  std::error_code register_fd(int fd, Events events, void* data = nullptr);
  // Changes events and data of a registered fd (ENOENT if it is not registered).
  std::error_code modify(int fd, Events events, void* data);
  // Forgets fd. Safe after the fd was closed: the backend's complaint is ignored.
  std::error_code unregister(int fd);

  // Waits for readiness. The span stays valid until the next select() call. Only events of
  // interest are reported, plus kError / kHangup. An fd closed while still registered is
  // reported with kError by backends that can notice it (select, poll), and is silently dropped
  // by the kernel for epoll — unregister before close.
  Result<std::span<const ReadyEvent>> select(
      std::chrono::nanoseconds timeout = std::chrono::nanoseconds(-1));

  const SelectorKey* get_key(int fd) const;
  std::size_t size() const { return count_; }
  std::string_view name() const { return backend_->name(); }
  bool edge_triggered() const { return backend_->edge_triggered(); }
  SelectorBackend& backend() { return *backend_; }

 private:
  std::unique_ptr<SelectorBackend> backend_;
  std::vector<SelectorKey> keys_;  // indexed by fd; fd == -1 marks a free slot
  std::size_t count_ = 0;
  std::vector<FdEvent> raw_;
  std::vector<ReadyEvent> ready_;
};

// make_selector("best") — a Selector over the named backend.
Result<std::unique_ptr<Selector>> make_selector(std::string_view name = "best");

}  // namespace muxio
