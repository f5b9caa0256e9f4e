#pragma once

#include <string>

#include "clock.h"
#include "store.h"

namespace access_limiter {

// Upper bound of ACCESS_LIMIT: one file per admission, so a limit is also a
// number of files per key per second.
inline constexpr int kMaxLimit = 100000;

struct Decision {
  bool admitted = false;
  Second window = 0;      // the window counted in
  int slot = -1;          // the slot to claim, when admitted
  int limit = 0;          // requests allowed per window
  int remaining = 0;      // left in this window after this request
  // Whole seconds until the next window: 1 to 1 + kClockSkewToleranceSeconds.
  Second reset_after_seconds = 1;
};

// A decision, and what the collection that follows an opening admission
// reports for the caller to log.
struct Admission {
  Decision decision;
  // Set when collecting the key's past windows failed. The admission stands
  // (its slot is claimed).
  std::string collect_error;
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
  Limiter(Store& store, const Clock& clock, int limit)
      : store_(store), clock_(clock), limit_(limit) {}

  // Throws StoreError when the store cannot answer, or when every attempt
  // was outlived by its window (kMaxAttempts); never admits then. The
  // request that opens a window also collects the key's past windows. It
  // leaves windows ahead of its clock alone, even far ahead: from here a
  // node whose own clock lags cannot tell them from the current windows of
  // the others. `--gc` removes them (collect_command.h).
  Admission admit(const std::string& key);

 private:
  // Decisions started over because their window ended before their claim.
  static constexpr int kMaxAttempts = 3;
  // A claim this many windows late is not checked, just decided again.
  static constexpr Second kMaxCheckedWindows = 8;

  bool superseded(const std::string& key, Second window);

  Store& store_;
  const Clock& clock_;
  int limit_;
};

}  // namespace access_limiter
