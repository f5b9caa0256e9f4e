#include <boost/test/unit_test.hpp>

#include <cerrno>

#include "fake_clock.h"
#include "http_status.h"
#include "limiter.h"
#include "memory_store.h"

using namespace access_limiter;
using access_limiter::testing::FakeClock;
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
  Second reset_after;
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
      {"clock behind counts in the newer window", 100, 10, {103, 4}, true, 103, 4, 5, 4},
      {"clock behind a full newer window waits for its end", 100, 10, {103, 10}, false, 103, -1, 0, 4},
  };
  for (const DecideCase& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Decision d = decide(c.now, c.limit, c.state);
      BOOST_TEST(d.admitted == c.admitted);
      BOOST_TEST(d.window == c.window);
      if (c.admitted) BOOST_TEST(d.slot == c.slot);
      BOOST_TEST(d.remaining == c.remaining);
      BOOST_TEST(d.reset_after == c.reset_after);
      BOOST_TEST(d.limit == c.limit);
      BOOST_TEST(d.reset_after >= 1);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(limiter)

BOOST_AUTO_TEST_CASE(admits_exactly_the_limit_per_window) {
  MemoryStore store;
  FakeClock clock(1000);
  Limiter limiter(store, clock, 10);
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
  Limiter limiter(store, clock, 2);
  BOOST_TEST(limiter.admit("k").remaining == 1);
  BOOST_TEST(limiter.admit("k").remaining == 0);
  Decision rejected = limiter.admit("k");
  BOOST_TEST(!rejected.admitted);
  BOOST_TEST(rejected.remaining == 0);
  BOOST_TEST(rejected.reset_after == 1);
}

BOOST_AUTO_TEST_CASE(rejections_write_nothing) {
  MemoryStore store;
  FakeClock clock(1000);
  Limiter limiter(store, clock, 3);
  for (int i = 0; i < 100; ++i) limiter.admit("k");
  BOOST_TEST(store.slotsTaken("k", 1000) == 3);
}

BOOST_AUTO_TEST_CASE(keys_are_limited_separately) {
  MemoryStore store;
  FakeClock clock(1000);
  Limiter limiter(store, clock, 1);
  BOOST_TEST(limiter.admit("a").admitted);
  BOOST_TEST(limiter.admit("b").admitted);
  BOOST_TEST(!limiter.admit("a").admitted);
}

BOOST_AUTO_TEST_CASE(lost_races_move_on_to_the_next_slot) {
  MemoryStore store;
  FakeClock clock(1000);
  Limiter limiter(store, clock, 5);
  store.lose_next_claims = 3;  // three competitors win slots 0, 1 and 2 first
  Decision d = limiter.admit("k");
  BOOST_TEST(d.admitted);
  BOOST_TEST(d.slot == 3);
  BOOST_TEST(store.slotsTaken("k", 1000) == 4);
}

BOOST_AUTO_TEST_CASE(losing_every_race_ends_in_a_rejection_not_a_loop) {
  MemoryStore store;
  FakeClock clock(1000);
  Limiter limiter(store, clock, 4);
  store.lose_next_claims = 4;
  BOOST_TEST(!limiter.admit("k").admitted);
  BOOST_TEST(store.slotsTaken("k", 1000) == 4);
}

BOOST_AUTO_TEST_CASE(opening_a_window_collects_old_ones_with_grace) {
  MemoryStore store;
  FakeClock clock(1000);
  Limiter limiter(store, clock, 2);
  for (Second second : {1000, 1001, 1002, 1003}) {
    clock.set(second);
    limiter.admit("k");
  }
  // Windows older than now - kClockSkewToleranceSeconds are gone.
  BOOST_TEST((store.windows("k") == std::set<Second>{1002, 1003}));
}

BOOST_AUTO_TEST_CASE(store_failure_is_an_error_not_a_decision) {
  MemoryStore store;
  FakeClock clock(1000);
  Limiter limiter(store, clock, 2);
  store.fail_with_errno = EIO;
  BOOST_CHECK_THROW(limiter.admit("k"), StoreError);
  try {
    limiter.admit("k");
  } catch (const StoreError& e) {
    BOOST_TEST(e.status() == 503);
    BOOST_TEST(e.errorNumber() == EIO);
  }
}

BOOST_AUTO_TEST_SUITE_END()

// The wall clock may step either way. Whatever it does, no window admits
// more than the limit, and old windows do not pile up.
BOOST_AUTO_TEST_SUITE(clock_steps)

BOOST_AUTO_TEST_CASE(a_step_back_never_reopens_a_full_window) {
  MemoryStore store;
  FakeClock clock(1000);
  Limiter limiter(store, clock, 3);
  for (int i = 0; i < 3; ++i) BOOST_TEST(limiter.admit("k").admitted);
  clock.set(999);  // back one second: window 999 never existed
  Decision d = limiter.admit("k");
  BOOST_TEST(!d.admitted);
  BOOST_TEST(d.window == 1000);
  BOOST_TEST(d.reset_after == 2);
  clock.set(995);  // further back: still counted in 1000, which is full
  BOOST_TEST(!limiter.admit("k").admitted);
  BOOST_TEST(store.slotsTaken("k", 1000) == 3);
}

BOOST_AUTO_TEST_CASE(a_forward_jump_and_back_counts_in_the_newest_window) {
  MemoryStore store;
  FakeClock clock(1000);
  Limiter limiter(store, clock, 3);
  BOOST_TEST(limiter.admit("k").admitted);  // window 1000
  clock.set(2000);                            // jump ahead: 1000 is collected
  BOOST_TEST(limiter.admit("k").admitted);
  BOOST_TEST(limiter.admit("k").admitted);
  clock.set(1000);  // corrected back: 1000 was collected, 2000 is newest
  BOOST_TEST(limiter.admit("k").admitted);
  BOOST_TEST(!limiter.admit("k").admitted);
  BOOST_TEST(store.slotsTaken("k", 2000) == 3);
  BOOST_TEST(store.slotsTaken("k", 1000) == 0);
}

BOOST_AUTO_TEST_CASE(random_steps_never_exceed_the_limit_in_any_window) {
  MemoryStore store;
  FakeClock clock(10000);
  const int limit = 4;
  Limiter limiter(store, clock, limit);
  std::map<Second, int> admitted_per_window;
  unsigned seed = 12345;
  Second now = 10000;
  for (int i = 0; i < 5000; ++i) {
    seed = seed * 1103515245u + 12345u;
    int step = static_cast<int>((seed >> 16) % 11) - 4;  // -4..+6 seconds, mostly small
    if ((seed >> 8) % 4 != 0) step = 0;                  // most requests share a second
    now += step;
    clock.set(now);
    Decision d = limiter.admit("k");
    if (d.admitted) ++admitted_per_window[d.window];
  }
  int windows_used = 0;
  for (const auto& [window, count] : admitted_per_window) {
    BOOST_TEST(count <= limit, "window " << window << " admitted " << count);
    ++windows_used;
  }
  BOOST_TEST(windows_used > 10);
  // Garbage stays bounded: only the newest windows are kept.
  BOOST_TEST(store.windows("k").size() <= 3u);
}

BOOST_AUTO_TEST_SUITE_END()
