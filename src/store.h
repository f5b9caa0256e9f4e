#pragma once

#include <optional>
#include <string>

#include "clock.h"

namespace access_limiter {

// What the store knows about one key, as seen at a given second.
struct WindowState {
  // The newest window of the key at or after the second asked about, if any.
  // A window newer than "now" means some clock (ours or another node's) ran
  // ahead; the decision then counts in that window rather than open an older one.
  std::optional<Second> window;
  // How many slots of that window are taken. Taken slots always form the
  // prefix 0..taken-1 (see Store::claimSlot), so this is exact.
  int taken = 0;
};

// The shared state behind the limiter. Every implementation passes the
// conformance suite in tests/unit/store_conformance.h.
//
// Atomicity: claimSlot is the only operation that must be atomic across every
// process and node sharing the store; it is a create-if-absent. Nothing is
// locked, so a crashed process can never block a key.
//
// Prefix rule: callers claim slot s only after seeing slot s-1 taken (or s is 0).
// With claims atomic and slots never freed inside a live window, the taken
// slots of a window are always 0..k-1.
//
// Failures throw StoreError (an answer of 503). A missing entry is an outcome,
// never an error.
class Store {
 public:
  virtual ~Store() = default;

  // The newest window of `key` at or after `now`, and its taken-slot count
  // (at most `limit`). Reads only; never creates anything.
  virtual WindowState read(const std::string& key, Second now, int limit) = 0;

  // Claims `slot` of `window` for `key`, creating the key and window as needed.
  // True if this call claimed it; false if it was already taken.
  virtual bool claimSlot(const std::string& key, Second window, int slot) = 0;

  // Removes the windows of `key` older than `before`. Returns how many.
  virtual int removeWindowsBefore(const std::string& key, Second before) = 0;

  // Removes every key's windows older than `before`, and keys left empty.
  // For idle keys, which no request will collect. Returns windows removed.
  virtual int removeAllWindowsBefore(Second before) = 0;

  // Proves the store can be written now: creates and removes a probe entry
  // that can never collide with a key. Throws StoreError when it cannot.
  virtual void probe() = 0;
};

}  // namespace access_limiter
