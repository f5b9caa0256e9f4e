#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store.h"

namespace access_limiter::testing {

// A Store in memory, for driving the limiter in tests. It keeps the same
// contract as FileStore (it passes store_conformance.h), and can be told to
// fail or to lose a race.
class MemoryStore final : public Store {
 public:
  int countTaken(const std::string& key, const Window& window, int known_taken,
                 int limit) override;
  bool claimSlot(const std::string& key, const Window& window, int slot) override;
  void releaseSlot(const std::string& key, const Window& window, int slot) override;
  Collection collectAll(Second keep_from, Second keep_until) override;
  std::optional<KeyPolicy> readPolicy(const std::string& key) override;
  void writePolicy(const std::string& key, const KeyPolicy& policy) override;
  bool removePolicy(const std::string& key) override;
  std::vector<std::string> keys() override;
  void probe() override;

  // Every call throws StoreError(errno) while non-zero.
  int fail_with_errno = 0;
  // The next this-many claims find their slot already taken by a competitor
  // (which then really holds it), as if another process won the race.
  int lose_next_claims = 0;
  // Calls made so far: what a decision cost.
  int count_calls = 0;
  int claim_calls = 0;
  int release_calls = 0;

  // Slots held in one window, and the starts of the windows kept for a key.
  int slotsTaken(const std::string& key, const Window& window) const;
  std::set<Second> windows(const std::string& key) const;

 private:
  void maybeFail(const char* call) const;
  Collection collectWindows(const std::string& key, Second keep_from, Second keep_until);
  using WindowKey = std::pair<Second, Second>;  // start, seconds
  std::map<std::string, std::map<WindowKey, std::set<int>>> keys_;
  std::map<std::string, KeyPolicy> policies_;
};

}  // namespace access_limiter::testing
