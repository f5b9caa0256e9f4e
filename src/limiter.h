#pragma once

#include <string>

#include <optional>

#include "clock.h"
#include "bounds.h"
#include "node_cache.h"
#include "store.h"

namespace access_limiter {

// What is known about one key when a request is decided.
struct WindowState {
  // The start of the window to count in: now's window, or the next one when
  // it starts within kClockSkewToleranceSeconds and is open (a node whose
  // clock runs ahead opened it; the decision counts in that window rather
  // than the older one). Unset when none is known to be open.
  std::optional<Second> window;
  // How many slots of that window are known taken. Taken slots always form
  // the prefix 0..taken-1 (see Store::claimSlot).
  int taken = 0;
};

struct Decision {
  bool admitted = false;
  Second window = 0;          // the start of the window counted in
  Second window_seconds = 1;  // its length (ACCESS_WINDOW)
  int slot = -1;              // the slot to claim, when admitted
  int limit = 0;              // requests allowed per window
  int remaining = 0;          // left in this window after this request
  // Whole seconds until the window counted in ends: 1 to window_seconds +
  // kClockSkewToleranceSeconds.
  Second reset_after_seconds = 1;
};

// The whole rule, as a pure function: at most `limit` per window of
// `window_seconds`, windows aligned on the epoch (windowAt), and a clock
// behind a store whose next window is open counts in that window instead
// (a step backwards never reopens a full window), as long as it starts
// within kClockSkewToleranceSeconds; any other window in `state` is
// ignored. Integers only; `limit` >= 1, `window_seconds` >= 1.
Decision decide(Second now, int limit, Second window_seconds, const WindowState& state);

// Decides for one request and records the admission in the store.
class Limiter {
 public:
  Limiter(Store& store, NodeCache& known, const Clock& clock, int limit,
          Second window_seconds = 1)
      : store_(store), known_(known), clock_(clock), limit_(limit),
        window_seconds_(window_seconds) {}

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

  bool superseded(const std::string& key, const Window& window);
  WindowState known(const std::string& key, Second now);
  Window windowStarting(Second start) const { return Window(start, window_seconds_); }

  Store& store_;
  NodeCache& known_;
  const Clock& clock_;
  int limit_;
  Second window_seconds_;
};

}  // namespace access_limiter
