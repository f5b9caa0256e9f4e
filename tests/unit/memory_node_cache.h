#pragma once

#include <map>
#include <optional>
#include <string>

#include "node_cache.h"

namespace access_limiter::testing {

// A NodeCache in memory with SharedNodeCache's rules (one fact per key, the
// newest window wins, the larger count within a window), for driving the
// limiter in tests. `forget()` is a node that knows nothing yet.
class MemoryNodeCache final : public NodeCache {
 public:
  std::optional<KnownWindow> recall(const std::string& key, Second now) const override {
    auto fact = facts_.find(key);
    if (fact == facts_.end() || fact->second.window < now ||
        fact->second.window > now + kClockSkewToleranceSeconds)
      return {};
    return fact->second;
  }
  void learn(const std::string& key, KnownWindow fact) override {
    auto held = facts_.find(key);
    if (held == facts_.end() || held->second.window < fact.window ||
        (held->second.window == fact.window && held->second.taken < fact.taken))
      facts_[key] = fact;
  }
  void forget() { facts_.clear(); }

 private:
  std::map<std::string, KnownWindow> facts_;
};

}  // namespace access_limiter::testing
