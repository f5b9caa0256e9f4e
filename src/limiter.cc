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
  d.rule = LimitRule{limit, window_seconds, true};
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

// The node cache's name for facts about `key` under `rule`. A plain limit's
// window is the cache's scope's (nodeCacheScope); a list's limits add their
// window's length, after a newline, which no key holds.
std::string factKey(const std::string& key, const LimitRule& rule) {
  return rule.plain ? key : key + "\n" + std::to_string(rule.window_seconds);
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
    if (store_.countTaken(key, Window(newer, window.seconds), 0, 1) > 0) return true;
  }
  return false;
}

// What the node knows of `key` under `rule` at `now`, and a look at the next
// window when it starts within kClockSkewToleranceSeconds and the node has
// not seen it open: a node whose clock runs ahead may have opened it, and
// the decision counts in the newest window. A window the node knows is full
// is refused without that look, even when the next one may have opened:
// refusing errs on the side of the limit.
WindowState Limiter::known(const std::string& key, Second now, const LimitRule& rule) {
  const std::string fact_key = factKey(key, rule);
  const Window current = windowAt(now, rule.window_seconds);
  const bool next_may_count = nextWindowMayCount(current, now);
  if (next_may_count) {
    if (const std::optional<int> taken = known_.recall(fact_key, current.end()))
      return WindowState{current.end(), *taken};
  }
  const std::optional<int> taken = known_.recall(fact_key, current.start);
  if (taken && *taken >= rule.limit) return WindowState{current.start, *taken};
  if (next_may_count &&
      store_.countTaken(key, Window(current.end(), rule.window_seconds), 0, 1) > 0) {
    known_.learn(fact_key, KnownWindow{current.end(), 1});
    return WindowState{current.end(), 1};
  }
  if (taken) return WindowState{current.start, *taken};
  return {};
}

// Claims the slot `decision` names, or the next free one after a lost race,
// updating `decision` to what happened.
Limiter::Claim Limiter::claim(const std::string& key, Second now, Decision& decision) {
  const LimitRule rule = decision.rule;
  const std::string fact_key = factKey(key, rule);
  // Contention, not failure: another request claimed our slot between our
  // look and our claim. The count read then is past that slot, so the loop
  // ends within limit + 1 turns (the last one finds the window full); a
  // store that breaks the prefix rule would spin, and is reported instead.
  for (int turn = 0; turn <= rule.limit; ++turn) {
    const Window window(decision.window, rule.window_seconds);
    if (!store_.claimSlot(key, window, decision.slot)) {
      const WindowState state{decision.window,
                              store_.countTaken(key, window, decision.slot + 1, rule.limit)};
      known_.learn(fact_key, KnownWindow{decision.window, state.taken});
      decision = decide(now, rule.limit, rule.window_seconds, state);
      decision.rule = rule;
      if (!decision.admitted) return Claim::kFull;
      continue;
    }
    known_.learn(fact_key, KnownWindow{decision.window, decision.slot + 1});
    return superseded(key, window) ? Claim::kSuperseded : Claim::kClaimed;
  }
  throw std::logic_error("no decision for a key (" + key + ") after " +
                         std::to_string(rule.limit + 1) +
                         " claims: the store breaks the prefix rule");
}

// A release that fails leaves its slot taken, an under-count of one, and
// is noted, not thrown: the request is refused either way, and an error here
// must not become an admission (ACCESS_FAIL_OPEN=1 admits on a StoreError).
void Limiter::release(const std::string& key, Admission& admission,
                      const std::vector<std::size_t>& claimed) {
  for (const std::size_t i : claimed) {
    const Decision& d = admission.decisions[i];
    try {
      store_.releaseSlot(key, Window(d.window, d.rule.window_seconds), d.slot);
    } catch (const StoreError& e) {
      admission.release_errors.emplace_back(e.what());
    }
  }
}

// A refusal's limits as they stood before the request: a limit with room
// shows what it has left (its claim, if it made one, was released), a full
// one none; the full ones in the list's order.
Admission Limiter::asBefore(Admission admission) {
  for (std::size_t i = 0; i < admission.decisions.size(); ++i) {
    Decision& d = admission.decisions[i];
    const bool full = std::find(admission.violated.begin(), admission.violated.end(), i) !=
                      admission.violated.end();
    d.remaining = full ? 0 : std::min(d.remaining + 1, d.rule.limit);
  }
  std::sort(admission.violated.begin(), admission.violated.end());
  return admission;
}

Admission Limiter::admitAll(const std::string& key) {
  // Deciding again, not failing: a decision outlived by its window (a
  // process delayed between reading the clock and claiming) starts over with
  // the clock as it is then. Bounded: a store that slow is reported.
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const Second now = clock_.now();
    Admission admission;
    for (std::size_t i = 0; i < limits_.size(); ++i) {
      const LimitRule& rule = limits_[i];
      Decision d = decide(now, rule.limit, rule.window_seconds, known(key, now, rule));
      d.rule = rule;
      if (!d.admitted) admission.violated.push_back(i);
      admission.decisions.push_back(d);
    }
    if (!admission.violated.empty()) return asBefore(std::move(admission));
    std::vector<std::size_t> order(limits_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    // The fewest left first; of equals, the longer window, whose lost slot
    // would stay lost longer.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const Decision& da = admission.decisions[a];
      const Decision& db = admission.decisions[b];
      if (da.remaining != db.remaining) return da.remaining < db.remaining;
      return da.rule.window_seconds > db.rule.window_seconds;
    });
    std::vector<std::size_t> claimed;
    bool again = false;
    for (const std::size_t i : order) {
      Decision& d = admission.decisions[i];
      const Claim outcome = claim(key, now, d);
      if (outcome == Claim::kFull) {
        release(key, admission, claimed);
        admission.violated.push_back(i);
        // The limits not claimed yet were decided from what the node knew,
        // which may be behind: a look at each, so that the answer names
        // every full one and waits for the last (as a node that knew would).
        for (const std::size_t j : order) {
          Decision& other = admission.decisions[j];
          if (j == i || std::find(claimed.begin(), claimed.end(), j) != claimed.end()) continue;
          const Window window(other.window, other.rule.window_seconds);
          const int taken = store_.countTaken(key, window, other.slot, other.rule.limit);
          known_.learn(factKey(key, other.rule), KnownWindow{other.window, taken});
          other.remaining = std::max(other.rule.limit - taken - 1, 0);
          if (taken >= other.rule.limit) {
            other.admitted = false;
            admission.violated.push_back(j);
          }
        }
        return asBefore(std::move(admission));
      }
      if (outcome == Claim::kSuperseded) {
        release(key, admission, claimed);
        again = true;
        break;
      }
      claimed.push_back(i);
    }
    if (again) continue;
    admission.admitted = true;
    return admission;
  }
  throw StoreError("decisions for a key (" + key + ") outlived their window " +
                       std::to_string(kMaxAttempts) + " times: the store is too slow",
                   ETIMEDOUT);
}

Decision Limiter::admit(const std::string& key) {
  Admission admission = admitAll(key);
  if (!admission.admitted) return admission.decisions[admission.violated.front()];
  return admission.decisions.front();
}

}  // namespace access_limiter
