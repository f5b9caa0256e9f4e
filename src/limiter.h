#pragma once

#include <string>

#include <optional>

#include "clock.h"
#include "node_cache.h"
#include "store.h"

namespace access_limiter {

// Upper bound of ACCESS_LIMIT: one file per admission, so a limit is also a
// number of files per key per second.
inline constexpr int kMaxLimit = 100000;

// What is known about one key when a request is decided.
struct WindowState {
  // The window to count in: the newest window seen from now to now +
  // kClockSkewToleranceSeconds (a node whose clock runs ahead opened it; the
  // decision counts in that window rather than open an older one). Unset
  // when none is known to be open.
  std::optional<Second> window;
  // How many slots of that window are known taken. Taken slots always form
  // the prefix 0..taken-1 (see Store::claimSlot).
  int taken = 0;
};

struct Decision {
  bool admitted = false;
  Second window = 0;      // the window counted in
  int slot = -1;          // the slot to claim, when admitted
  int limit = 0;          // requests allowed per window
  int remaining = 0;      // left in this window after this request
  // Whole seconds until the next window: 1 to 1 + kClockSkewToleranceSeconds.
  Second reset_after_seconds = 1;
};

// The whole rule, as a pure function: at most `limit` per window, a window is
// one epoch second, and a clock behind the store's newest window counts in
// that newest window instead (a step backwards never reopens a full window),
// unless that window is more than kClockSkewToleranceSeconds ahead: then a
// clock was off when it was made, and it is ignored. Integers only; `limit` >= 1.
Decision decide(Second now, int limit, const WindowState& state);

// Decides for one request and records the admission in the store.
class Limiter {
 public:
  Limiter(Store& store, NodeCache& known, const Clock& clock, int limit)
      : store_(store), known_(known), clock_(clock), limit_(limit) {}

  // Throws StoreError when the store cannot answer, or when every attempt
  // was outlived by its window (kMaxAttempts); never admits then.
  //
  // Cost, in store calls: none for a window the node knows is full; one
  // look at the window ahead (a clock may run ahead) and one claim for the
  // rest, unless another process claimed the slot first (then the count is
  // read again: O(log) of the slots claimed meanwhile). Never collects: that
  // is `--gc`'s job (collect_command.h), so no request pays for the
  // requests before it.
  Decision admit(const std::string& key);

 private:
  // Decisions started over because their window ended before their claim.
  static constexpr int kMaxAttempts = 3;
  // A claim this many windows late is not checked, just decided again.
  static constexpr Second kMaxCheckedWindows = 8;

  bool superseded(const std::string& key, Second window);
  WindowState known(const std::string& key, Second now);

  Store& store_;
  NodeCache& known_;
  const Clock& clock_;
  int limit_;
};

}  // namespace access_limiter
