// Snapshot<T>: a shared, immutable value that one thread may replace while others take copies
// of it (the users and settings SIGHUP reloads). Each reader keeps the snapshot it took.
//
// A mutex rather than std::atomic<std::shared_ptr>: libstdc++ 12 implements that one with a
// lock bit of its own, which ThreadSanitizer cannot see, so every reload is reported as a data
// race. Taken once per connection or login: the mutex costs nothing that matters.
#pragma once

#include <memory>
#include <mutex>

namespace muxio::ftpd {

template <class T>
class Snapshot {
 public:
  explicit Snapshot(std::shared_ptr<const T> initial) : value_(std::move(initial)) {}

  std::shared_ptr<const T> load() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  void store(std::shared_ptr<const T> next) {
    std::lock_guard lock(mutex_);
    value_.swap(next);  // the old value is released after the unlock, by `next`
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace muxio::ftpd
