#include "memory_store.h"

#include <algorithm>

namespace access_limiter::testing {

void MemoryStore::maybeFail(const char* call) const {
  if (fail_with_errno != 0) throw StoreError(call, "memory", fail_with_errno);
}

int MemoryStore::countTaken(const std::string& key, const Window& window, int known_taken,
                            int limit) {
  maybeFail("count");
  ++count_calls;
  auto k = keys_.find(key);
  if (k == keys_.end()) return std::min(known_taken, limit);
  auto w = k->second.find({window.start, window.seconds});
  int taken = std::min(known_taken, limit);
  if (w == k->second.end()) return taken;
  while (taken < limit && w->second.count(taken) > 0) ++taken;
  return taken;
}

bool MemoryStore::claimSlot(const std::string& key, const Window& window, int slot) {
  maybeFail("claim");
  ++claim_calls;
  auto& slots = keys_[key][{window.start, window.seconds}];
  if (lose_next_claims > 0) {
    --lose_next_claims;
    slots.insert(slot);
    return false;
  }
  return slots.insert(slot).second;
}

void MemoryStore::releaseSlot(const std::string& key, const Window& window, int slot) {
  maybeFail("release");
  ++release_calls;
  const auto k = keys_.find(key);
  if (k == keys_.end()) return;
  const auto w = k->second.find({window.start, window.seconds});
  if (w != k->second.end()) w->second.erase(slot);
}

Collection MemoryStore::collectWindows(const std::string& key, Second keep_from, Second keep_until) {
  maybeFail("collect");
  Collection done;
  auto k = keys_.find(key);
  if (k == keys_.end()) return done;
  for (auto w = k->second.begin(); w != k->second.end();) {
    const auto [start, seconds] = w->first;
    if (start <= keep_until && start + seconds > keep_from) {
      ++w;
      continue;
    }
    ++done.windows_removed;
    if (start > keep_until) {
      ++done.future_windows_removed;
      done.furthest_future = std::max(done.furthest_future, start);
    }
    w = k->second.erase(w);
  }
  return done;
}

Collection MemoryStore::collectAll(Second keep_from, Second keep_until) {
  maybeFail("collect");
  Collection total;
  for (auto k = keys_.begin(); k != keys_.end();) {
    const Collection done = collectWindows(k->first, keep_from, keep_until);
    total.windows_removed += done.windows_removed;
    total.future_windows_removed += done.future_windows_removed;
    total.furthest_future = std::max(total.furthest_future, done.furthest_future);
    if (k->second.empty() && policies_.count(k->first) == 0) {
      ++total.keys_removed;
      k = keys_.erase(k);
    } else {
      ++k;
    }
  }
  return total;
}

std::optional<KeyPolicy> MemoryStore::readPolicy(const std::string& key) {
  maybeFail("policy");
  auto p = policies_.find(key);
  if (p == policies_.end()) return std::nullopt;
  return p->second;
}

void MemoryStore::writePolicy(const std::string& key, const KeyPolicy& policy) {
  maybeFail("policy");
  keys_[key];
  policies_[key] = policy;
}

bool MemoryStore::removePolicy(const std::string& key) {
  maybeFail("policy");
  return policies_.erase(key) > 0;
}

std::vector<std::string> MemoryStore::keys() {
  maybeFail("keys");
  std::vector<std::string> found;
  for (const auto& [key, windows] : keys_) found.push_back(key);
  return found;
}

void MemoryStore::probe() { maybeFail("probe"); }

int MemoryStore::slotsTaken(const std::string& key, const Window& window) const {
  auto k = keys_.find(key);
  if (k == keys_.end()) return 0;
  auto w = k->second.find({window.start, window.seconds});
  return w == k->second.end() ? 0 : static_cast<int>(w->second.size());
}

std::set<Second> MemoryStore::windows(const std::string& key) const {
  std::set<Second> result;
  auto k = keys_.find(key);
  if (k != keys_.end())
    for (const auto& [window, slots] : k->second) result.insert(window.first);
  return result;
}

}  // namespace access_limiter::testing
