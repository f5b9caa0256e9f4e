#include "memory_store.h"

#include "http_status.h"

namespace access_limiter::testing {

void MemoryStore::maybeFail(const char* call) const {
  if (fail_with_errno != 0) throw StoreError(call, "memory", fail_with_errno);
}

WindowState MemoryStore::read(const std::string& key, Second now, int limit) {
  maybeFail("read");
  auto k = keys_.find(key);
  if (k == keys_.end()) return {};
  auto w = k->second.lower_bound(now);
  if (w == k->second.end()) return {};
  auto newest = std::prev(k->second.end());
  const auto& slots = (w->first == now ? w : newest)->second;
  int taken = 0;
  while (taken < limit && slots.count(taken) > 0) ++taken;
  return WindowState{(w->first == now ? w : newest)->first, taken};
}

bool MemoryStore::claimSlot(const std::string& key, Second window, int slot) {
  maybeFail("claim");
  auto& slots = keys_[key][window];
  if (lose_next_claims > 0) {
    --lose_next_claims;
    slots.insert(slot);
    return false;
  }
  return slots.insert(slot).second;
}

int MemoryStore::removeWindowsBefore(const std::string& key, Second before) {
  maybeFail("remove");
  auto k = keys_.find(key);
  if (k == keys_.end()) return 0;
  int removed = 0;
  for (auto w = k->second.begin(); w != k->second.end() && w->first < before;) {
    w = k->second.erase(w);
    ++removed;
  }
  return removed;
}

int MemoryStore::removeAllWindowsBefore(Second before) {
  maybeFail("remove");
  int removed = 0;
  for (auto k = keys_.begin(); k != keys_.end();) {
    removed += removeWindowsBefore(k->first, before);
    k = k->second.empty() ? keys_.erase(k) : std::next(k);
  }
  return removed;
}

void MemoryStore::probe() { maybeFail("probe"); }

int MemoryStore::slotsTaken(const std::string& key, Second window) const {
  auto k = keys_.find(key);
  if (k == keys_.end()) return 0;
  auto w = k->second.find(window);
  return w == k->second.end() ? 0 : static_cast<int>(w->second.size());
}

std::set<Second> MemoryStore::windows(const std::string& key) const {
  std::set<Second> result;
  auto k = keys_.find(key);
  if (k != keys_.end())
    for (const auto& [window, slots] : k->second) result.insert(window);
  return result;
}

}  // namespace access_limiter::testing
