#pragma once

#include <string>

#include "clock.h"
#include "store.h"

namespace access_limiter {

// Old windows are kept this long after a newer one opens, so that a node
// whose clock lags by less than this still finds (and respects) the window it
// counts in. Nodes sharing a store must keep their clocks closer than this.
inline constexpr Second kClockSkewToleranceSeconds = 1;

// Upper bound of ACCESS_LIMIT: one file per admission, so a limit is also a
// number of files per key per second.
inline constexpr int kMaxLimit = 100000;

struct Decision {
  bool admitted = false;
  Second window = 0;      // the window counted in
  int slot = -1;          // the slot to claim, when admitted
  int limit = 0;          // requests allowed per window
  int remaining = 0;      // left in this window after this request
  Second reset_after = 1; // whole seconds until the next window, >= 1
  // Set when collecting old windows failed after this admission. The
  // admission stands (its slot is claimed); the caller logs this.
  std::string collect_error;
};

// The whole rule, as a pure function: at most `limit` per window, a window is
// one epoch second, and a clock behind the store's newest window counts in
// that newest window instead (a step backwards never reopens a full window).
// Integers only; `limit` >= 1.
Decision decide(Second now, int limit, const WindowState& state);

// Decides for one request and records the admission in the store.
class Limiter {
 public:
  Limiter(Store& store, const Clock& clock, int limit)
      : store_(store), clock_(clock), limit_(limit) {}

  // Throws StoreError when the store cannot answer; never admits then.
  Decision admit(const std::string& key);

 private:
  Store& store_;
  const Clock& clock_;
  int limit_;
};

}  // namespace access_limiter
