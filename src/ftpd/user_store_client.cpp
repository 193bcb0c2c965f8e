#include "ftpd/user_store_client.hpp"

namespace muxio::ftpd {
namespace {

// Beyond this many remembered names (a guesser trying names), the expired ones are dropped,
// and if that is not enough, all of them.
constexpr std::size_t kMaxCached = 10000;
// Jobs per worker the queue may hold before new logins are told the store is busy.
constexpr std::size_t kMaxQueuedPerWorker = 32;

UserStore::Lookup unavailable(std::string why) {
  UserStore::Lookup out;
  out.status = UserStore::Lookup::Status::unavailable;
  out.error = std::move(why);
  return out;
}

}  // namespace

UserStoreClient::UserStoreClient(const OpenStore& open, const Options& options)
    : options_(options), pool_(std::max<std::size_t>(1, options.connections)) {
  for (std::size_t i = 0; i < pool_.size(); ++i)
    idle_stores_.push_back(open());
}

UserStoreClient::~UserStoreClient() = default;

bool UserStoreClient::cached(const std::string& name, UserStore::Lookup& out) {
  std::lock_guard lock(cache_mutex_);
  auto it = cache_.find(name);
  if (it == cache_.end()) return false;
  if (Clock::now() >= it->second.expires) {
    cache_.erase(it);
    return false;
  }
  out = it->second.lookup;
  return true;
}

void UserStoreClient::forget_cached() {
  std::lock_guard lock(cache_mutex_);
  cache_.clear();
}

void UserStoreClient::remember(const std::string& name, const UserStore::Lookup& lookup) {
  // An outage is not remembered: the next login asks again.
  if (options_.cache_lifetime.count() <= 0 ||
      lookup.status == UserStore::Lookup::Status::unavailable) {
    return;
  }
  const TimePoint now = Clock::now();
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() >= kMaxCached) {
    std::erase_if(cache_, [now](const auto& e) { return now >= e.second.expires; });
    if (cache_.size() >= kMaxCached) cache_.clear();
  }
  cache_.insert_or_assign(name, CacheEntry{lookup, now + options_.cache_lifetime});
}

UserStore::Lookup UserStoreClient::fetch(const std::string& name, TimePoint queued_at) {
  // The client behind this job has been waiting too long already: no more of its time.
  if (Clock::now() - queued_at > options_.timeout) {
    return unavailable("user store: lookup waited too long for a connection");
  }
  std::unique_ptr<UserStore> store;
  {
    std::lock_guard lock(stores_mutex_);
    store = std::move(idle_stores_.back());  // as many stores as workers: one is idle
    idle_stores_.pop_back();
  }
  UserStore::Lookup result = store->find(name);
  std::lock_guard lock(stores_mutex_);
  idle_stores_.push_back(std::move(store));
  return result;
}

Task<UserStore::Lookup> UserStoreClient::find(std::string name) {
  UserStore::Lookup answer;
  if (cached(name, answer)) co_return answer;
  if (pool_.queued() >= kMaxQueuedPerWorker * pool_.size()) {
    co_return unavailable("user store: too many lookups waiting");
  }
  const TimePoint queued_at = Clock::now();
  answer = co_await offload_to(pool_, [&] { return fetch(name, queued_at); });
  remember(name, answer);
  co_return answer;
}

}  // namespace muxio::ftpd
