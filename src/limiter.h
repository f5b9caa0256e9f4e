#pragma once

#include <string>

#include <optional>

#include <vector>

#include "clock.h"
#include "bounds.h"
#include "limit_list.h"
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

// One limit's decision.
struct Decision {
  bool admitted = false;
  LimitRule rule;             // the limit decided (limit and window_seconds repeat it)
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

// A request's decision under all of its key's limits.
struct Admission {
  bool admitted = false;
  // One per limit, in the list's order. When refused, a limit that was not
  // full shows what it had left before this request, a full one 0.
  std::vector<Decision> decisions;
  // When refused: the limits that were full, in the list's order.
  std::vector<std::size_t> violated;
  // Claims of a refused request that could not be given back (StoreError
  // messages): each leaves its window one admission short.
  std::vector<std::string> release_errors;
};

// Decides for one request under every limit of `limits` and records the
// admission in the store: admitted only when every limit has room, and then
// counted in every one.
//
// Nothing is locked. Each limit is decided first from what is known (the
// node cache, or a look at the store); a limit known full refuses with no
// claim at all. Otherwise the limits are claimed one by one, the one with
// the least left first (the likeliest to be lost to a competing request).
// A claim lost because its window filled meanwhile refuses the request, and
// the slots it claimed in the other limits are released (Store::releaseSlot);
// the limits it had not claimed yet are looked at, so the refusal names
// every full one.
//
// Never over-admits: every admission holds a slot below each limit, and a
// slot is only ever released by the request that claimed it and was not
// admitted. May under-admit, never by more than one slot per such request in
// each window it claimed in, which stays taken when:
//  - the process dies (or the store fails) between a claim and its release;
//  - a released slot is passed by later counts (a node that knows the window
//    is further along starts after it): the window admits one less.
// Both need a request that found room in every limit and then lost a race
// for one; claiming the fullest first makes the other limits' claims rare.
class Limiter {
 public:
  Limiter(Store& store, NodeCache& known, const Clock& clock, LimitList limits)
      : store_(store), known_(known), clock_(clock), limits_(std::move(limits)) {}
  // One plain limit of `limit` per `window_seconds`.
  Limiter(Store& store, NodeCache& known, const Clock& clock, int limit,
          Second window_seconds = 1)
      : Limiter(store, known, clock, LimitList{LimitRule{limit, window_seconds, true}}) {}

  // Throws StoreError when the store cannot answer, or when every attempt
  // was outlived by its window (kMaxAttempts); never admits then.
  //
  // Cost, in store calls, per limit: none for a window the node knows is
  // full; one look at the window ahead (a clock may run ahead) when it
  // starts within kClockSkewToleranceSeconds, and one claim, unless another
  // process claimed the slot first (then the count is read again: O(log) of
  // the slots claimed meanwhile, so a day of 20,000 slots costs at most
  // about 30 looks on a node that knew nothing of it). Never collects: that
  // is `--gc`'s job (collect_command.h), so no request pays for the
  // requests before it.
  Admission admitAll(const std::string& key);

  // admitAll's decision for a single limit, or the one that refused.
  Decision admit(const std::string& key);

 private:
  // Decisions started over because their window ended before their claim.
  static constexpr int kMaxAttempts = 3;
  // A claim this many windows late is not checked, just decided again.
  static constexpr Second kMaxCheckedWindows = 8;

  enum class Claim { kClaimed, kFull, kSuperseded };
  Claim claim(const std::string& key, Second now, Decision& decision);
  void release(const std::string& key, Admission& admission,
               const std::vector<std::size_t>& claimed);
  static Admission asBefore(Admission admission);
  bool superseded(const std::string& key, const Window& window);
  WindowState known(const std::string& key, Second now, const LimitRule& rule);

  Store& store_;
  NodeCache& known_;
  const Clock& clock_;
  LimitList limits_;
};

}  // namespace access_limiter
