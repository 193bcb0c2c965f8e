// UserStoreClient: how the server asks a database user store about a login without blocking a
// loop. Lookups run on a pool of worker threads of its own, each borrowing one of as many store
// connections (so a database that is slow or down ties up these threads only, never the offload
// pool that logged-in sessions' disk calls need), and answers are kept for a short lifetime, so
// that a change in the database takes effect within it and a busy server does not ask the
// database at every login.
//
// A lookup that cannot be answered in bounded time is "unavailable" (the login gets 421): the
// store bounds each round trip (UserStoreOptions::timeout), a job that waited in the queue longer
// than that is not started, and a queue already holding many jobs takes no more.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ftpd/offload_to.hpp"
#include "ftpd/user_store.hpp"
#include "muxio/clock.hpp"
#include "muxio/task.hpp"
#include "muxio/thread_pool.hpp"

namespace muxio::ftpd {

class UserStoreClient {
 public:
  struct Options {
    std::size_t connections = 4;                     // worker threads and store connections
    std::chrono::milliseconds cache_lifetime{5000};  // 0: ask the store at every login
    std::chrono::seconds timeout{5};                 // the most a lookup waits in the queue
  };
  using OpenStore = std::function<std::unique_ptr<UserStore>()>;

  UserStoreClient(const OpenStore& open, const Options& options);
  ~UserStoreClient();
  UserStoreClient(const UserStoreClient&) = delete;
  UserStoreClient& operator=(const UserStoreClient&) = delete;

  // From a loop: the cached answer, or the store's (fetched on the pool).
  Task<UserStore::Lookup> find(std::string name);

  // Drops every remembered answer (SIGHUP).
  void forget_cached();

  // Jobs waiting for a worker (metrics, tests).
  std::size_t queued() { return pool_.queued(); }

 private:
  struct CacheEntry {
    UserStore::Lookup lookup;
    TimePoint expires;
  };

  bool cached(const std::string& name, UserStore::Lookup& out);
  void remember(const std::string& name, const UserStore::Lookup& lookup);
  // On a worker: borrows a connection and asks it.
  UserStore::Lookup fetch(const std::string& name, TimePoint queued_at);

  Options options_;
  std::mutex cache_mutex_;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::mutex stores_mutex_;
  std::vector<std::unique_ptr<UserStore>> idle_stores_;
  ThreadPool pool_;  // last: joined before the stores it uses go
};

}  // namespace muxio::ftpd
