#include "limiter.h"

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace access_limiter {

namespace {

// True when the window after `current` starts within the skew tolerance of
// `now`: a node whose clock runs ahead may already count in it.
bool nextWindowMayCount(const Window& current, Second now) {
  return current.end() <= now + kClockSkewToleranceSeconds;
}

}  // namespace

Decision decide(Second now, int limit, Second window_seconds, const WindowState& state) {
  Decision d;
  d.limit = limit;
  d.window_seconds = window_seconds;
  const Window current = windowAt(now, window_seconds);
  const bool next_may_count = nextWindowMayCount(current, now);
  const bool counts = state.window && (*state.window == current.start ||
                                       (next_may_count && *state.window == current.end()));
  d.window = counts ? *state.window : current.start;
  const int taken = counts ? std::clamp(state.taken, 0, limit) : 0;
  d.reset_after_seconds = d.window + window_seconds - now;
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
// already collected (`--gc` removes a window once a clock reads its end plus
// kClockSkewToleranceSeconds, and that clock may run ahead of ours), where
// its slot says nothing about the N admitted there before. It stands only
// if no window from the one after next on has opened: no clock got that far.
bool Limiter::superseded(const std::string& key, const Window& window) {
  const Second finished = clock_.now();
  if (finished < window.end()) return false;
  // So late that checking each window would cost more than deciding again.
  if (finished - window.end() >= kMaxCheckedWindows * window.seconds) return true;
  const Second after_next = window.start + 2 * window.seconds;
  for (Second newer = windowAt(finished + kClockSkewToleranceSeconds, window.seconds).start;
       newer >= after_next; newer -= window.seconds) {
    if (store_.countTaken(key, windowStarting(newer), 0, 1) > 0) return true;
  }
  return false;
}

// What the node knows of `key` at `now`, and a look at the next window when
// it starts within kClockSkewToleranceSeconds and the node has not seen it
// open: a node whose clock runs ahead may have opened it, and the decision
// counts in the newest window. A window the node knows is full is refused
// without that look, even when the next one may have opened: refusing errs
// on the side of the limit.
WindowState Limiter::known(const std::string& key, Second now) {
  const Window current = windowAt(now, window_seconds_);
  const bool next_may_count = nextWindowMayCount(current, now);
  if (next_may_count) {
    if (const std::optional<int> taken = known_.recall(key, current.end()))
      return WindowState{current.end(), *taken};
  }
  const std::optional<int> taken = known_.recall(key, current.start);
  if (taken && *taken >= limit_) return WindowState{current.start, *taken};
  if (next_may_count && store_.countTaken(key, windowStarting(current.end()), 0, 1) > 0) {
    known_.learn(key, KnownWindow{current.end(), 1});
    return WindowState{current.end(), 1};
  }
  if (taken) return WindowState{current.start, *taken};
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
      const Decision d = decide(now, limit_, window_seconds_, state);
      if (!d.admitted) return d;
      const Window window = windowStarting(d.window);
      if (!store_.claimSlot(key, window, d.slot)) {
        state = WindowState{d.window, store_.countTaken(key, window, d.slot + 1, limit_)};
        known_.learn(key, KnownWindow{d.window, state.taken});
        if (turn == limit_)
          throw std::logic_error("no decision for a key (" + key + ") after " +
                                 std::to_string(limit_ + 1) +
                                 " claims: the store breaks the prefix rule");
        continue;
      }
      known_.learn(key, KnownWindow{d.window, d.slot + 1});
      if (superseded(key, window)) break;
      return d;
    }
  }
  throw StoreError("decisions for a key (" + key + ") outlived their window " +
                       std::to_string(kMaxAttempts) + " times: the store is too slow",
                   ETIMEDOUT);
}

}  // namespace access_limiter
