#include "limiter.h"

#include <algorithm>

#include "http_status.h"

namespace access_limiter {

Decision decide(Second now, int limit, const WindowState& state) {
  Decision d;
  d.limit = limit;
  d.window = std::max(now, state.window.value_or(now));
  int taken = state.window ? std::clamp(state.taken, 0, limit) : 0;
  d.reset_after = d.window + 1 - now;
  if (taken >= limit) {
    d.admitted = false;
    d.remaining = 0;
    return d;
  }
  d.admitted = true;
  d.slot = taken;
  d.remaining = limit - taken - 1;
  return d;
}

Decision Limiter::admit(const std::string& key) {
  const Second now = clock_.now();
  WindowState state = store_.read(key, now, limit_);
  for (;;) {
    Decision d = decide(now, limit_, state);
    if (!d.admitted) return d;
    if (store_.claimSlot(key, d.window, d.slot)) {
      // The request that opens a window collects the key's old ones: one
      // directory scan per key per second, never one per request.
      if (d.slot == 0) {
        try {
          store_.removeWindowsBefore(key, d.window - kClockSkewToleranceSeconds);
        } catch (const StoreError& e) {
          d.collect_error = e.what();
        }
      }
      return d;
    }
    // Contention, not failure: another request claimed this slot between our
    // read and our claim. Each retry moves one slot on, so this loop ends
    // within `limit_` turns.
    state = WindowState{d.window, d.slot + 1};
  }
}

}  // namespace access_limiter
