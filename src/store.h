#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "clock.h"
#include "policy.h"

namespace access_limiter {

// A system call of the store failed. It names the call, the path and errno
// so the log line says all three: "open(/tmp/access/k/1/0): No space left".
// The store's own error: what it means to a client is decided by its caller.
class StoreError : public std::runtime_error {
 public:
  StoreError(const std::string& call, const std::string& path, int error_number);
  // A failure that is not one system call's: the message says what, and
  // error_number (ETIMEDOUT, say) classifies it.
  StoreError(const std::string& message, int error_number)
      : std::runtime_error(message), error_number_(error_number) {}
  int errorNumber() const { return error_number_; }

 private:
  int error_number_;
};

// What one collection did.
struct Collection {
  int windows_removed = 0;        // windows outside the kept range, every slot unlinked
  int future_windows_removed = 0; // of those, windows ahead of the kept range
  Second furthest_future = 0;     // the furthest such window, when there was one
  int keys_removed = 0;           // key directories left empty and removed
  // Entries that could not be collected ("opendir(ROOT/x): Permission
  // denied"); collection went on past each of them.
  std::vector<std::string> errors;
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
// slots of a window are always 0..k-1. One exception: releaseSlot, by the
// request that claimed the slot and was then refused by another of the key's
// limits. It leaves a hole; a count may then stop at the hole (and a claim
// fills it) or pass it (and the hole stays free): fewer admissions, never
// more, since every admission holds a slot below the limit.
//
// Containment: nothing is created or removed outside the store's root, and
// nothing below the root that is not the store's own (a key directory with a
// valid key name, a slot file) is ever removed; links are never followed.
//
// Failures throw StoreError. A missing entry is an outcome, never an error.
class Store {
 public:
  virtual ~Store() = default;

  // How many slots of `window` of `key` are taken, at most `limit`, given
  // that the first `known_taken` are (0 when nothing is known). Reads only;
  // never creates anything. Its cost grows with the log of the slots taken
  // beyond `known_taken`, never with the number of requests or files.
  // Windows of different lengths are different counters.
  virtual int countTaken(const std::string& key, const Window& window, int known_taken,
                         int limit) = 0;

  // Claims `slot` of `window` for `key`, creating the key and window as needed.
  // True if this call claimed it; false if it was already taken.
  virtual bool claimSlot(const std::string& key, const Window& window, int slot) = 0;

  // Gives back `slot` of `window`, claimed by this request, which was then
  // refused by another of the key's limits. A slot already gone is not an
  // error.
  virtual void releaseSlot(const std::string& key, const Window& window, int slot) = 0;

  // Removes every key's windows that do not overlap [keep_from, keep_until]:
  // past ones (ended by keep_from), and ones starting after keep_until, so
  // far ahead that a clock must have been off when they were made. Removes
  // key directories left empty (a key with a policy is never empty). Requests never collect: this is
  // `--gc`, run by a timer. Goes on past entries it cannot collect and lists
  // them in Collection::errors; throws only when the root itself cannot be
  // listed (a missing root included).
  virtual Collection collectAll(Second keep_from, Second keep_until) = 0;

  // The key's policy; none when it has none (or no directory). Throws
  // StoreError for one that is not a policy.
  virtual std::optional<KeyPolicy> readPolicy(const std::string& key) = 0;

  // Sets the key's policy, replacing any (atomically: a reader sees the old
  // or the new one), creating the key's directory as needed.
  virtual void writePolicy(const std::string& key, const KeyPolicy& policy) = 0;

  // Removes the key's policy; false when it had none.
  virtual bool removePolicy(const std::string& key) = 0;

  // Every key with a directory in the store, in no particular order. For
  // operators' commands, never for a request: it lists the root.
  virtual std::vector<std::string> keys() = 0;

  // Proves the store can be written now: creates and removes a probe entry
  // that can never collide with a key. Throws StoreError when it cannot.
  virtual void probe() = 0;
};

}  // namespace access_limiter
