#pragma once

#include <string>
#include <vector>

#include "store.h"

namespace access_limiter::testing {

// A Store that passes every call to another: a test overrides the calls it
// wants to change (a slow claim, a broken one) and keeps the rest.
class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store& inner) : inner_(inner) {}
  int countTaken(const std::string& key, const Window& window, int known_taken,
                 int limit) override {
    return inner_.countTaken(key, window, known_taken, limit);
  }
  bool claimSlot(const std::string& key, const Window& window, int slot) override {
    return inner_.claimSlot(key, window, slot);
  }
  void releaseSlot(const std::string& key, const Window& window, int slot) override {
    inner_.releaseSlot(key, window, slot);
  }
  Collection collectAll(Second keep_from, Second keep_until) override {
    return inner_.collectAll(keep_from, keep_until);
  }
  std::optional<KeyPolicy> readPolicy(const std::string& key) override {
    return inner_.readPolicy(key);
  }
  void writePolicy(const std::string& key, const KeyPolicy& policy) override {
    inner_.writePolicy(key, policy);
  }
  bool removePolicy(const std::string& key) override { return inner_.removePolicy(key); }
  std::vector<std::string> keys() override { return inner_.keys(); }
  void probe() override { inner_.probe(); }

 protected:
  Store& inner_;
};

}  // namespace access_limiter::testing
