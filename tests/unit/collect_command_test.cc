#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <string>

#include "collect_command.h"
#include "fake_clock.h"
#include "file_store.h"
#include "limiter.h"
#include "memory_node_cache.h"
#include "memory_store.h"
#include "temp_dir.h"

using namespace access_limiter;
using access_limiter::testing::FakeClock;
using access_limiter::testing::MemoryNodeCache;
using access_limiter::testing::MemoryStore;
using access_limiter::testing::TempDir;

BOOST_AUTO_TEST_SUITE(collect_command)

BOOST_AUTO_TEST_CASE(reports_what_it_removed) {
  MemoryStore store;
  store.claimSlot("idle", 100, 0);
  store.claimSlot("busy", 1000, 0);
  const CommandResult r = runCollection(store, 1000, "/srv/access", "access-limiter");
  BOOST_TEST(r.exit_status == 0);
  BOOST_TEST(r.out == "access-limiter: removed 1 past windows and 1 idle keys under /srv/access\n");
  BOOST_TEST(r.err.empty());
  BOOST_TEST(store.windows("busy").size() == 1u);
}

BOOST_AUTO_TEST_CASE(removes_far_future_windows_and_says_a_clock_is_off) {
  MemoryStore store;
  store.claimSlot("k", 1000 + kClockSkewToleranceSeconds, 0);  // another node, slightly ahead: kept
  store.claimSlot("k", 2306818927, 0);                          // a node booted years ahead
  const CommandResult r = runCollection(store, 1000, "/srv/access", "access-limiter");
  BOOST_TEST(r.exit_status == 0);
  BOOST_TEST(r.err.find("removed 1 windows up to " + std::to_string(2306818927 - 1000) +
                        " s ahead of this node's clock: a clock is off") != std::string::npos);
  BOOST_TEST(store.windows("k").size() == 1u);
  BOOST_TEST(r.out == "access-limiter: removed 0 past windows and 0 idle keys under /srv/access\n");
  // Said once: the window is gone, so the next run says nothing.
  BOOST_TEST(runCollection(store, 1000, "/srv/access", "access-limiter").err.empty());
}

BOOST_AUTO_TEST_CASE(a_store_that_cannot_be_listed_exits_1_naming_it) {
  MemoryStore store;
  store.fail_with_errno = EACCES;
  const CommandResult r = runCollection(store, 1000, "/srv/access", "access-limiter");
  BOOST_TEST(r.exit_status == 1);
  BOOST_TEST(r.err.find("access-limiter: cannot collect /srv/access: ") == 0u);
  BOOST_TEST(r.err.find("Permission denied") != std::string::npos);
}

// The kept range, on the real store: a window stays while a node whose clock
// lags ours by up to kClockSkewToleranceSeconds may still be counting in it
// (the one that just ended included), and one ahead stays while a node up
// to that far ahead may have opened it. One second further either way is
// collected, so the range is exact on both sides.
BOOST_AUTO_TEST_CASE(collects_exactly_the_windows_outside_the_skew_tolerance) {
  struct Case {
    const char* name;
    Second now;
    Window window;
    bool kept;
  };
  constexpr Second t = kClockSkewToleranceSeconds;
  const Case cases[] = {
      {"the current second", 1000, 1000, true},
      {"the second that just ended", 1000, 999, true},
      {"the oldest second a lagging clock can still be in", 1000, 1000 - t, true},
      {"the second before it, past the tolerance", 1000, 1000 - t - 1, false},
      {"a minute that just ended", 1700000040, Window(1699999980, 60), true},
      {"a minute that ended as long ago as the tolerance", 1700000040 + t,
       Window(1699999980, 60), false},
      {"the furthest second a clock ahead can have opened", 1000, 1000 + t, true},
      {"one second further ahead", 1000, 1000 + t + 1, false},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      TempDir dir;
      FileStore store(dir.path());
      BOOST_TEST(store.claimSlot("k", c.window, 0));
      const CommandResult r = runCollection(store, c.now, dir.path(), "access-limiter");
      BOOST_TEST(r.exit_status == 0);
      BOOST_TEST(FileStore(dir.path()).countTaken("k", c.window, 0, 1) == (c.kept ? 1 : 0));
    }
  }
}

// Why the window that just ended is kept: a node whose clock lags by the
// tolerance is still in it, and a process there that knows nothing yet
// counts what the store holds. Had --gc removed those slots, it would admit
// the window's whole limit again.
BOOST_AUTO_TEST_CASE(a_lagging_node_cannot_admit_again_after_collection) {
  TempDir dir;
  FakeClock lagging(1000 - kClockSkewToleranceSeconds);
  {
    FileStore store(dir.path());
    MemoryNodeCache known;
    Limiter node(store, known, lagging, 2);
    BOOST_TEST(node.admit("k").admitted);
    BOOST_TEST(node.admit("k").admitted);
  }
  const FakeClock collector(1000);
  FileStore gc_store(dir.path());
  BOOST_TEST(runCollection(gc_store, collector.now(), dir.path(), "access-limiter").exit_status == 0);
  FileStore store(dir.path());
  MemoryNodeCache knows_nothing;
  Limiter next_process(store, knows_nothing, lagging, 2);
  const Decision d = next_process.admit("k");
  BOOST_TEST(!d.admitted);
  BOOST_TEST(d.window == lagging.now());
}

BOOST_AUTO_TEST_SUITE_END()
