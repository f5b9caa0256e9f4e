#include "limiter.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace access_limiter {

Decision decide(Second now, int limit, const WindowState& state) {
  Decision d;
  d.limit = limit;
  const bool counts = state.window && *state.window >= now &&
                      *state.window <= now + kClockSkewToleranceSeconds;
  d.window = counts ? *state.window : now;
  const int taken = counts ? std::clamp(state.taken, 0, limit) : 0;
  d.reset_after_seconds = d.window + 1 - now;
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

Admission Limiter::admit(const std::string& key) {
  const Second now = clock_.now();
  WindowState state = store_.read(key, now, limit_);
  // Contention, not failure: another request claimed our slot between our
  // read and our claim, and each retry moves one slot on. So the loop ends
  // within limit + 1 turns (the last one finds the window full); a store
  // that breaks the prefix rule would spin, and is reported instead.
  for (int turn = 0; turn <= limit_; ++turn) {
    Admission result;
    result.decision = decide(now, limit_, state);
    const Decision& d = result.decision;
    if (!d.admitted) return result;
    if (store_.claimSlot(key, d.window, d.slot)) {
      // The request that opens a window collects the key's past windows:
      // one directory scan per key per window, never one per request.
      if (d.slot == 0) {
        try {
          store_.collectKey(key, d.window - kClockSkewToleranceSeconds,
                            std::numeric_limits<Second>::max());
        } catch (const StoreError& e) {
          result.collect_error = e.what();
        }
      }
      return result;
    }
    state = WindowState{d.window, d.slot + 1};
  }
  throw std::logic_error("no decision for key " + key + " after " + std::to_string(limit_ + 1) +
                         " claims: the store breaks the prefix rule");
}

}  // namespace access_limiter
