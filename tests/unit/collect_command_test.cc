#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <string>

#include "collect_command.h"
#include "memory_store.h"

using namespace access_limiter;
using access_limiter::testing::MemoryStore;

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

BOOST_AUTO_TEST_SUITE_END()
