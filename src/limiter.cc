#include "limiter.h"

#include <algorithm>
#include <cerrno>
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
// already collected (`--gc` removes a window once its clock is two windows
// on), where its slot says nothing about the N admitted there before. It
// stands only if no window that late has opened.
bool Limiter::superseded(const std::string& key, Second window) {
  const Second finished = clock_.now();
  if (finished <= window) return false;
  // So late that checking each window would cost more than deciding again.
  if (finished - window > kMaxCheckedWindows) return true;
  for (Second newer = finished + kClockSkewToleranceSeconds;
       newer > window + kClockSkewToleranceSeconds; --newer) {
    // Any window from `newer` on would have collected ours.
    if (store_.countTaken(key, newer, 0, 1) > 0) return true;
  }
  return false;
}

// What the node knows of `key` at `now`, and a look at the window ahead
// when the node has not seen it open: a node whose clock runs ahead may have
// opened it, and the decision counts in the newest window. A window the node
// knows is full is refused without that look, even when a window ahead may
// have opened: refusing errs on the side of the limit.
WindowState Limiter::known(const std::string& key, Second now) {
  const std::optional<KnownWindow> fact = known_.recall(key, now);
  if (fact && fact->taken >= limit_) return WindowState{fact->window, fact->taken};
  for (Second ahead = now + kClockSkewToleranceSeconds; ahead > (fact ? fact->window : now);
       --ahead) {
    if (store_.countTaken(key, ahead, 0, 1) > 0) {
      known_.learn(key, KnownWindow{ahead, 1});
      return WindowState{ahead, 1};
    }
  }
  if (fact) return WindowState{fact->window, fact->taken};
  return {};
}

Decision Limiter::admit(const std::string& key) {
  // Deciding again, not failing: a decision outlived by its window (a
  // process delayed between reading the clock and claiming) starts over with
  // the clock as it is then. Bounded: a store that slow is reported.
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const Second now = clock_.now();
    WindowState state = known(key, now);
    // Contention, not failure: another request claimed our slot between our
    // look and our claim. The count read then is past that slot, so the loop
    // ends within limit + 1 turns (the last one finds the window full); a
    // store that breaks the prefix rule would spin, and is reported instead.
    for (int turn = 0; turn <= limit_; ++turn) {
      const Decision d = decide(now, limit_, state);
      if (!d.admitted) return d;
      if (!store_.claimSlot(key, d.window, d.slot)) {
        state = WindowState{d.window, store_.countTaken(key, d.window, d.slot + 1, limit_)};
        known_.learn(key, KnownWindow{d.window, state.taken});
        if (turn == limit_)
          throw std::logic_error("no decision for a key (" + key + ") after " +
                                 std::to_string(limit_ + 1) +
                                 " claims: the store breaks the prefix rule");
        continue;
      }
      known_.learn(key, KnownWindow{d.window, d.slot + 1});
      if (superseded(key, d.window)) break;
      return d;
    }
  }
  throw StoreError("decisions for a key (" + key + ") outlived their window " +
                       std::to_string(kMaxAttempts) + " times: the store is too slow",
                   ETIMEDOUT);
}

}  // namespace access_limiter
