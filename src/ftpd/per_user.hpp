// PerUser<T>: one shared T per user name (a user's bandwidth buckets, quota usage), handed to
// each of the user's sessions and dropped with the last of them. Sessions run on several loop
// threads, so lookups lock; T itself must be thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace muxio::ftpd {

template <class T>
class PerUser {
 public:
  // The user's T, made with make() if no session of the user holds one.
  template <class Make>
  std::shared_ptr<T> get(const std::string& name, Make make) {
    std::lock_guard lock(mutex_);
    if (auto existing = entries_[name].lock()) return existing;
    // Forget the users whose sessions have all ended: the table tracks the logged-in ones.
    std::erase_if(entries_, [](const auto& entry) { return entry.second.expired(); });
    std::shared_ptr<T> fresh = make();
    entries_[name] = fresh;
    return fresh;
  }

  std::size_t size() {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<T>> entries_;
};

}  // namespace muxio::ftpd
