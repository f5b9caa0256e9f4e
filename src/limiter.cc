#include "limiter.h"

#include <algorithm>
#include <cerrno>
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

// A claim that finished after its window ended may have landed in a window
// already collected (a window goes once one two windows newer opens), where
// its slot says nothing about the N admitted there before. It stands only if
// no window that would have collected it has opened.
bool Limiter::superseded(const std::string& key, Second window) {
  const Second finished = clock_.now();
  if (finished <= window) return false;
  // So late that checking each window would cost more than deciding again.
  if (finished - window > kMaxCheckedWindows) return true;
  for (Second newer = finished + kClockSkewToleranceSeconds;
       newer > window + kClockSkewToleranceSeconds; --newer) {
    // Any window from `newer` on would have collected ours.
    if (store_.read(key, newer, 1).window) return true;
  }
  return false;
}

Admission Limiter::admit(const std::string& key) {
  // Deciding again, not failing: a decision outlived by its window (a
  // process delayed between reading the clock and claiming) starts over with
  // the clock as it is then. Bounded: a store that slow is reported.
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
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
      if (!store_.claimSlot(key, d.window, d.slot)) {
        state = WindowState{d.window, d.slot + 1};
        if (turn == limit_)
          throw std::logic_error("no decision for a key (" + key + ") after " +
                                 std::to_string(limit_ + 1) +
                                 " claims: the store breaks the prefix rule");
        continue;
      }
      if (superseded(key, d.window)) break;
      // The request that opens a window collects the key's past windows:
      // one directory scan per key per window, never one per request.
      if (d.slot == 0) {
        try {
          const Collection done = store_.collectKey(key, d.window - kClockSkewToleranceSeconds,
                                                    std::numeric_limits<Second>::max());
          if (!done.errors.empty())
            result.collect_error =
                done.errors.front() +
                (done.errors.size() > 1
                     ? " (and " + std::to_string(done.errors.size() - 1) + " more)"
                     : std::string());
        } catch (const StoreError& e) {
          result.collect_error = e.what();
        }
      }
      return result;
    }
  }
  throw StoreError("decisions for a key (" + key + ") outlived their window " +
                       std::to_string(kMaxAttempts) + " times: the store is too slow",
                   ETIMEDOUT);
}

}  // namespace access_limiter
