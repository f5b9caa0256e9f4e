#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "node_cache.h"

namespace access_limiter::testing {

// A NodeCache in memory with SharedNodeCache's rules (one fact per key, the
// newest window wins, the larger count within a window), for driving the
// limiter in tests. `forget()` is a node that knows nothing yet.
class MemoryNodeCache final : public NodeCache {
 public:
  std::optional<int> recall(const std::string& key, Second window) const override {
    auto fact = facts_.find(key);
    if (fact == facts_.end() || fact->second.window != window) return {};
    return fact->second.taken;
  }
  void learn(const std::string& key, KnownWindow fact) override {
    auto held = facts_.find(key);
    if (held == facts_.end() || held->second.window < fact.window ||
        (held->second.window == fact.window && held->second.taken < fact.taken))
      facts_[key] = fact;
  }
  std::optional<std::optional<KeyPolicy>> recallPolicy(const std::string& key,
                                                       Second second) const override {
    auto p = policies_.find(key);
    if (p == policies_.end() || p->second.first != second) return {};
    return p->second.second;
  }
  void learnPolicy(const std::string& key, Second second,
                   const std::optional<KeyPolicy>& policy) override {
    policies_[key] = {second, policy};
  }
  void forget() {
    facts_.clear();
    policies_.clear();
  }

 private:
  std::map<std::string, KnownWindow> facts_;
  std::map<std::string, std::pair<Second, std::optional<KeyPolicy>>> policies_;
};

}  // namespace access_limiter::testing
