#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cerrno>

#include "fake_clock.h"
#include "http_status.h"
#include "limiter.h"
#include "forwarding_store.h"
#include "memory_node_cache.h"
#include "memory_store.h"

using namespace access_limiter;
using access_limiter::testing::FakeClock;
using access_limiter::testing::ForwardingStore;
using access_limiter::testing::MemoryNodeCache;
using access_limiter::testing::MemoryStore;

BOOST_AUTO_TEST_SUITE(decision)

struct DecideCase {
  const char* name;
  Second now;
  int limit;
  WindowState state;
  bool admitted;
  Second window;
  int slot;
  int remaining;
  Second reset_after_seconds;
};

BOOST_AUTO_TEST_CASE(decide_table) {
  const DecideCase cases[] = {
      {"empty store opens a window at now", 100, 10, {}, true, 100, 0, 9, 1},
      {"next free slot is the taken count", 100, 10, {100, 3}, true, 100, 3, 6, 1},
      {"last slot leaves none remaining", 100, 10, {100, 9}, true, 100, 9, 0, 1},
      {"a full window rejects", 100, 10, {100, 10}, false, 100, -1, 0, 1},
      {"an overfull count is clamped and rejects", 100, 10, {100, 99}, false, 100, -1, 0, 1},
      {"limit 1 admits one", 7, 1, {}, true, 7, 0, 0, 1},
      {"limit 1 then rejects", 7, 1, {7, 1}, false, 7, -1, 0, 1},
      {"clock behind counts in the newer window", 100, 10, {101, 4}, true, 101, 4, 5, 2},
      {"clock behind a full newer window waits for its end", 100, 10, {101, 10}, false, 101, -1, 0, 2},
      {"a window past the skew tolerance is ignored", 100, 10, {102, 10}, true, 100, 0, 9, 1},
      {"a window years ahead is ignored", 100, 10, {2306818927, 10}, true, 100, 0, 9, 1},
      {"a window behind now is not counted in", 100, 10, {99, 10}, true, 100, 0, 9, 1},
  };
  for (const DecideCase& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Decision d = decide(c.now, c.limit, 1, c.state);
      BOOST_TEST(d.admitted == c.admitted);
      BOOST_TEST(d.window == c.window);
      if (c.admitted) BOOST_TEST(d.slot == c.slot);
      BOOST_TEST(d.remaining == c.remaining);
      BOOST_TEST(d.reset_after_seconds == c.reset_after_seconds);
      BOOST_TEST(d.limit == c.limit);
      BOOST_TEST(d.reset_after_seconds >= 1);
      BOOST_TEST(d.reset_after_seconds <= 1 + kClockSkewToleranceSeconds);
    }
  }
}

// Longer windows (ACCESS_WINDOW): aligned on the epoch, so every node agrees.
BOOST_AUTO_TEST_CASE(windows_of_a_minute) {
  struct Case {
    const char* name;
    Second now;
    WindowState state;
    bool admitted;
    Second window;
    Second reset_after_seconds;
  };
  const Case cases[] = {
      {"a minute starts on a multiple of 60", 1700000045, {}, true, 1700000040, 55},
      {"its first second", 1700000040, {}, true, 1700000040, 60},
      {"its last second", 1700000099, {1700000040, 2}, true, 1700000040, 1},
      {"full until its end", 1700000070, {1700000040, 5}, false, 1700000040, 30},
      {"in its last second, the next minute opened by a clock ahead counts", 1700000099,
       {1700000100, 1}, true, 1700000100, 61},
      {"earlier, the next minute is a clock far off: ignored", 1700000090, {1700000100, 5}, true,
       1700000040, 10},
      {"the previous minute is not counted in", 1700000100, {1700000040, 5}, true, 1700000100, 60},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Decision d = decide(c.now, 5, 60, c.state);
      BOOST_TEST(d.admitted == c.admitted);
      BOOST_TEST(d.window == c.window);
      BOOST_TEST(d.window_seconds == 60);
      BOOST_TEST(d.reset_after_seconds == c.reset_after_seconds);
    }
  }
  BOOST_TEST(windowAt(-1, 60).start == -60);  // before the epoch too
  BOOST_TEST(windowAt(86399, 86400).start == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(limiter)

BOOST_AUTO_TEST_CASE(a_minute_admits_the_limit_across_its_seconds) {
  MemoryStore store;
  FakeClock clock(1700000040);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 3, 60);
  for (Second at : {1700000040, 1700000050, 1700000099}) {
    clock.set(at);
    BOOST_TEST(limiter.admit("k").admitted);
  }
  clock.set(1700000070);
  BOOST_TEST(!limiter.admit("k").admitted);
  clock.set(1700000100);
  BOOST_TEST(limiter.admit("k").admitted);
  BOOST_TEST(store.slotsTaken("k", Window(1700000040, 60)) == 3);
  BOOST_TEST(store.slotsTaken("k", Window(1700000040, 1)) == 0);
}

BOOST_AUTO_TEST_CASE(admits_exactly_the_limit_per_window) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 10);
  for (Second second = 1000; second < 1005; ++second) {
    clock.set(second);
    int admitted = 0;
    for (int i = 0; i < 25; ++i) admitted += limiter.admit("k").admitted;
    BOOST_TEST(admitted == 10);
    BOOST_TEST(store.slotsTaken("k", second) == 10);
  }
}

BOOST_AUTO_TEST_CASE(rejections_report_retry_after_and_no_remaining) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 2);
  BOOST_TEST(limiter.admit("k").remaining == 1);
  BOOST_TEST(limiter.admit("k").remaining == 0);
  Decision rejected = limiter.admit("k");
  BOOST_TEST(!rejected.admitted);
  BOOST_TEST(rejected.remaining == 0);
  BOOST_TEST(rejected.reset_after_seconds == 1);
}

BOOST_AUTO_TEST_CASE(rejections_write_nothing) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 3);
  for (int i = 0; i < 100; ++i) limiter.admit("k");
  BOOST_TEST(store.slotsTaken("k", 1000) == 3);
}

BOOST_AUTO_TEST_CASE(keys_are_limited_separately) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 1);
  BOOST_TEST(limiter.admit("a").admitted);
  BOOST_TEST(limiter.admit("b").admitted);
  BOOST_TEST(!limiter.admit("a").admitted);
}

BOOST_AUTO_TEST_CASE(lost_races_move_on_to_the_next_slot) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 5);
  store.lose_next_claims = 3;  // three competitors win slots 0, 1 and 2 first
  Decision d = limiter.admit("k");
  BOOST_TEST(d.admitted);
  BOOST_TEST(d.slot == 3);
  BOOST_TEST(store.slotsTaken("k", 1000) == 4);
}

BOOST_AUTO_TEST_CASE(losing_every_race_ends_in_a_rejection_not_a_loop) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 4);
  store.lose_next_claims = 4;
  BOOST_TEST(!limiter.admit("k").admitted);
  BOOST_TEST(store.slotsTaken("k", 1000) == 4);
}

// What a decision costs in store calls: the point of the node cache.
BOOST_AUTO_TEST_CASE(an_admission_costs_one_look_ahead_and_one_claim) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 100);
  for (int i = 0; i < 50; ++i) {
    const int counts = store.count_calls, claims = store.claim_calls;
    BOOST_TEST(limiter.admit("k").admitted);
    BOOST_TEST(store.count_calls - counts == 1, "admission " << i);
    BOOST_TEST(store.claim_calls - claims == 1, "admission " << i);
  }
}

BOOST_AUTO_TEST_CASE(a_window_known_full_is_refused_without_asking_the_store) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 3);
  for (int i = 0; i < 3; ++i) BOOST_TEST(limiter.admit("k").admitted);
  const int counts = store.count_calls, claims = store.claim_calls;
  store.fail_with_errno = EIO;  // proof that it is not asked
  for (int i = 0; i < 10; ++i) {
    Decision d = limiter.admit("k");
    BOOST_TEST(!d.admitted);
    BOOST_TEST(d.reset_after_seconds == 1);
  }
  BOOST_TEST(store.count_calls == counts);
  BOOST_TEST(store.claim_calls == claims);
}

// The request that opens a window pays what any other admission pays,
// whatever the limit and however full the windows before it were: requests
// never collect (--gc does), so past windows stay until it runs.
BOOST_AUTO_TEST_CASE(opening_a_window_costs_what_any_admission_costs) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  const int limit = 1000;
  Limiter limiter(store, known, clock, limit);
  for (Second second : {1000, 1001, 1002, 1003}) {
    clock.set(second);
    for (int i = 0; i < limit; ++i) {
      const int counts = store.count_calls, claims = store.claim_calls;
      BOOST_TEST_REQUIRE(limiter.admit("k").admitted);
      BOOST_TEST_REQUIRE(store.count_calls + store.claim_calls - counts - claims == 2);
    }
    BOOST_TEST(!limiter.admit("k").admitted);
  }
  BOOST_TEST((store.windows("k") == std::set<Second>{1000, 1001, 1002, 1003}));
}

// Two nodes, each with its own cache, on one store: a node that knows
// nothing, or knows less than the store, learns it from the store, and a
// fact that is behind never admits one too many.
BOOST_AUTO_TEST_CASE(a_node_that_knows_less_than_the_store_asks_it) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known_a, known_b;
  Limiter node_a(store, known_a, clock, 5);
  Limiter node_b(store, known_b, clock, 5);
  for (int i = 0; i < 3; ++i) BOOST_TEST(node_a.admit("k").admitted);
  Decision d = node_b.admit("k");
  BOOST_TEST(d.admitted);
  BOOST_TEST(d.slot == 3);
  BOOST_TEST(d.remaining == 1);
  BOOST_TEST(node_a.admit("k").slot == 4);  // a knew 3, the claim of 3 lost, counted on
  BOOST_TEST(!node_b.admit("k").admitted);  // b knew 4: the last claim finds it full
  BOOST_TEST(!node_a.admit("k").admitted);
  BOOST_TEST(store.slotsTaken("k", 1000) == 5);
  // b now knows: refused without asking.
  const int calls = store.count_calls + store.claim_calls;
  BOOST_TEST(!node_b.admit("k").admitted);
  BOOST_TEST(store.count_calls + store.claim_calls == calls);
}

BOOST_AUTO_TEST_CASE(a_fact_from_a_wiped_store_refuses_until_its_window_ends) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 2);
  known.learn("k", KnownWindow{1000, 2});  // the store was emptied since
  BOOST_TEST(!limiter.admit("k").admitted);
  BOOST_TEST(store.slotsTaken("k", 1000) == 0);
  clock.set(1001);
  BOOST_TEST(limiter.admit("k").admitted);
}

// A store whose claims all fail, as if the prefix rule were broken: the loop
// ends in a rejection within limit + 1 turns instead of spinning.
class NeverClaims final : public ForwardingStore {
 public:
  NeverClaims() : ForwardingStore(memory_) {}
  int countTaken(const std::string&, const Window&, int known_taken, int limit) override {
    return std::min(known_taken, limit);
  }
  bool claimSlot(const std::string&, const Window&, int) override {
    return ++claims > 1000 ? throw 0 : false;
  }
  int claims = 0;

 private:
  MemoryStore memory_;
};

BOOST_AUTO_TEST_CASE(the_claim_loop_is_bounded_by_the_limit) {
  NeverClaims store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 5);
  BOOST_TEST(!limiter.admit("k").admitted);
  BOOST_TEST(store.claims == 5);
}

// A store whose claims take a while: the clock moves on while one is made,
// as when a process is descheduled or a volume is slow.
class SlowClaims final : public ForwardingStore {
 public:
  SlowClaims(Store& inner, FakeClock& clock) : ForwardingStore(inner), clock_(clock) {}
  bool claimSlot(const std::string& k, const Window& window, int slot) override {
    const bool claimed = inner_.claimSlot(k, window, slot);
    clock_.set(clock_.now() + claim_seconds);
    return claimed;
  }
  Second claim_seconds = 0;

 private:
  FakeClock& clock_;
};

BOOST_AUTO_TEST_CASE(a_claim_outlived_by_its_window_is_decided_again) {
  MemoryStore memory;
  FakeClock clock(1000);
  SlowClaims store(memory, clock);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 2);
  BOOST_TEST(limiter.admit("k").admitted);
  BOOST_TEST(limiter.admit("k").admitted);
  clock.set(1002);
  BOOST_TEST(limiter.admit("k").window == 1002);
  memory.collectAll(1002 - kClockSkewToleranceSeconds, 1002 + kClockSkewToleranceSeconds);  // --gc
  // A straggler that read the clock at 1000 and claims two seconds later:
  // window 1000 is gone, so its claim would re-open it.
  clock.set(1000);
  store.claim_seconds = 2;
  Decision late = limiter.admit("k");
  BOOST_TEST(late.admitted);
  BOOST_TEST(late.window == 1002);  // counted where the others count now
  BOOST_TEST(memory.slotsTaken("k", 1002) == 2);
  store.claim_seconds = 0;
  clock.set(1002);
  BOOST_TEST(!limiter.admit("k").admitted);
}

BOOST_AUTO_TEST_CASE(a_store_too_slow_for_any_window_is_an_error) {
  MemoryStore memory;
  FakeClock clock(1000);
  SlowClaims store(memory, clock);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 5);
  // Each attempt finds the world moved on: other nodes opened every window.
  for (Second window = 1001; window <= 1030; ++window) memory.claimSlot("k", window, 0);
  store.claim_seconds = 3;
  BOOST_CHECK_THROW(limiter.admit("k"), StoreError);
}

BOOST_AUTO_TEST_CASE(store_failure_is_an_error_not_a_decision) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 2);
  store.fail_with_errno = EIO;
  BOOST_CHECK_THROW(limiter.admit("k"), StoreError);
  try {
    limiter.admit("k");
  } catch (const StoreError& e) {
    BOOST_TEST(e.errorNumber() == EIO);
  }
}

BOOST_AUTO_TEST_SUITE_END()

// The wall clock may step either way. Whatever it does, no window admits
// more than the limit.
BOOST_AUTO_TEST_SUITE(clock_steps)

BOOST_AUTO_TEST_CASE(a_step_back_within_the_tolerance_never_reopens_a_full_window) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 3);
  for (int i = 0; i < 3; ++i) BOOST_TEST(limiter.admit("k").admitted);
  clock.set(1000 - kClockSkewToleranceSeconds);  // window 999 never existed
  Decision d = limiter.admit("k");
  BOOST_TEST(!d.admitted);
  BOOST_TEST(d.window == 1000);
  BOOST_TEST(d.reset_after_seconds == 1 + kClockSkewToleranceSeconds);
  BOOST_TEST(store.slotsTaken("k", 1000) == 3);
}

BOOST_AUTO_TEST_CASE(a_window_past_the_tolerance_is_ignored_and_left_for_collection) {
  MemoryStore store;
  FakeClock clock(2306818927);  // a node booted with its clock years ahead
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 2);
  BOOST_TEST(limiter.admit("k").admitted);
  BOOST_TEST(limiter.admit("k").admitted);
  BOOST_TEST(!limiter.admit("k").admitted);
  clock.set(1000);  // the right time, on this node
  Decision first = limiter.admit("k");
  BOOST_TEST(first.admitted);
  BOOST_TEST(first.window == 1000);
  BOOST_TEST(first.reset_after_seconds == 1);
  BOOST_TEST(limiter.admit("k").admitted);
  BOOST_TEST(!limiter.admit("k").admitted);
  // A request cannot tell a clock far ahead from its own lagging one, so it
  // removes no window ahead of it: --gc does (collect_command_test.cc).
  BOOST_TEST((store.windows("k") == std::set<Second>{1000, 2306818927}));
}

BOOST_AUTO_TEST_CASE(a_step_back_past_the_tolerance_counts_in_a_window_of_its_own) {
  MemoryStore store;
  FakeClock clock(1000);
  MemoryNodeCache known;
  Limiter limiter(store, known, clock, 3);
  for (int i = 0; i < 3; ++i) BOOST_TEST(limiter.admit("k").admitted);
  clock.set(995);
  Decision d = limiter.admit("k");
  BOOST_TEST(d.admitted);
  BOOST_TEST(d.window == 995);
  BOOST_TEST(store.slotsTaken("k", 995) == 1);
}

// Nodes whose clocks agree within the tolerance, taking turns at random as a
// balancer would, while time moves on irregularly: no window admits more
// than the limit, and old windows do not pile up.
BOOST_AUTO_TEST_CASE(skewed_nodes_never_exceed_the_limit_in_any_window) {
  MemoryStore store;
  const int limit = 4;
  FakeClock clock_a(10000), clock_b(10000);
  MemoryNodeCache known_a, known_b;
  Limiter node_a(store, known_a, clock_a, limit);
  Limiter node_b(store, known_b, clock_b, limit);
  std::map<Second, int> admitted_per_window;
  unsigned seed = 12345;
  Second true_time = 10000;
  for (int i = 0; i < 5000; ++i) {
    seed = seed * 1103515245u + 12345u;
    if ((seed >> 8) % 4 == 0) {
      true_time += (seed >> 16) % 3;  // most requests share a second
      store.collectAll(true_time - kClockSkewToleranceSeconds, true_time + kClockSkewToleranceSeconds);
    }
    // Node b's clock is ahead by up to the tolerance; a's is right.
    const Second skew = static_cast<Second>((seed >> 20) % (kClockSkewToleranceSeconds + 1));
    clock_a.set(true_time);
    clock_b.set(true_time + skew);
    Decision d = ((seed >> 24) % 2 == 0 ? node_a : node_b).admit("k");
    BOOST_TEST(d.reset_after_seconds <= 1 + kClockSkewToleranceSeconds);
    if (d.admitted) ++admitted_per_window[d.window];
  }
  int windows_used = 0;
  for (const auto& [window, count] : admitted_per_window) {
    BOOST_TEST(count <= limit, "window " << window << " admitted " << count);
    ++windows_used;
  }
  BOOST_TEST(windows_used > 10);
}

BOOST_AUTO_TEST_SUITE_END()
