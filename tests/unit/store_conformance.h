#pragma once

// The contract every Store keeps, as one suite run against each backend.
// Call checkStoreConformance(factory) from a test case; `factory` returns a
// fresh, empty store each time.

#include <boost/test/unit_test.hpp>

#include <memory>

#include "store.h"

namespace access_limiter::testing {

template <typename Factory>
void checkStoreConformance(Factory make_store) {
  {
    BOOST_TEST_CONTEXT("an unknown key reads as no window") {
      auto store = make_store();
      WindowState s = store->read("k", 100, 10);
      BOOST_TEST(!s.window.has_value());
      BOOST_TEST(s.taken == 0);
    }
  }
  {
    BOOST_TEST_CONTEXT("a slot is claimed once; the taken prefix is counted") {
      auto store = make_store();
      BOOST_TEST(store->claimSlot("k", 100, 0));
      BOOST_TEST(!store->claimSlot("k", 100, 0));
      BOOST_TEST(store->claimSlot("k", 100, 1));
      BOOST_TEST(store->claimSlot("k", 100, 2));
      WindowState s = store->read("k", 100, 10);
      BOOST_TEST(s.window.value_or(-1) == 100);
      BOOST_TEST(s.taken == 3);
    }
  }
  {
    BOOST_TEST_CONTEXT("every prefix length is counted exactly, up to the limit") {
      for (int limit : {1, 2, 3, 7, 10, 64}) {
        auto store = make_store();
        for (int taken = 0; taken <= limit; ++taken) {
          BOOST_TEST(store->read("k", 5, limit).taken == taken);
          if (taken < limit) BOOST_TEST(store->claimSlot("k", 5, taken));
        }
      }
    }
  }
  {
    BOOST_TEST_CONTEXT("keys and windows are independent") {
      auto store = make_store();
      BOOST_TEST(store->claimSlot("a", 100, 0));
      BOOST_TEST(store->claimSlot("b", 100, 0));
      BOOST_TEST(store->claimSlot("a", 101, 0));
      BOOST_TEST(store->read("a", 100, 10).taken == 1);
      BOOST_TEST(store->read("b", 100, 10).taken == 1);
      BOOST_TEST(store->read("b", 101, 10).taken == 0);
    }
  }
  {
    BOOST_TEST_CONTEXT("a window ahead within the skew tolerance is reported; others are not") {
      auto store = make_store();
      const Second ahead = 100 + kClockSkewToleranceSeconds;
      BOOST_TEST(store->claimSlot("k", ahead, 0));
      BOOST_TEST(store->claimSlot("k", ahead, 1));
      WindowState behind = store->read("k", 100, 10);
      BOOST_TEST(behind.window.value_or(-1) == ahead);
      BOOST_TEST(behind.taken == 2);
      BOOST_TEST(!store->read("k", ahead + 1, 10).window.has_value());
      BOOST_TEST(store->claimSlot("far", 100 + kClockSkewToleranceSeconds + 1, 0));
      BOOST_TEST(!store->read("far", 100, 10).window.has_value());
      // The newest counts, even when now's own window exists too: a node
      // whose clock lags joins the window the others are in.
      BOOST_TEST(store->claimSlot("k", 100, 0));
      BOOST_TEST(store->read("k", 100, 10).window.value_or(-1) == ahead);
    }
  }
  {
    BOOST_TEST_CONTEXT("collection removes only windows outside the kept range") {
      auto store = make_store();
      for (Second w : {100, 101, 102, 103, 900}) BOOST_TEST(store->claimSlot("k", w, 0));
      Collection done = store->collectKey("k", 102, 103);
      BOOST_TEST(done.windows_removed == 3);
      BOOST_TEST(done.future_windows_removed == 1);
      BOOST_TEST(done.furthest_future == 900);
      BOOST_TEST(store->read("k", 102, 10).taken == 1);
      BOOST_TEST(store->read("k", 101, 10).window.value_or(-1) == 102);
      BOOST_TEST(!store->read("k", 900, 10).window.has_value());
      BOOST_TEST(store->collectKey("k", 102, 103).windows_removed == 0);
      BOOST_TEST(store->collectKey("missing", 102, 103).windows_removed == 0);
    }
  }
  {
    BOOST_TEST_CONTEXT("collecting every key leaves only the kept windows") {
      auto store = make_store();
      BOOST_TEST(store->claimSlot("idle", 50, 0));
      BOOST_TEST(store->claimSlot("busy", 50, 0));
      BOOST_TEST(store->claimSlot("busy", 99, 0));
      BOOST_TEST(store->claimSlot("ahead", 5000, 0));
      Collection done = store->collectAll(99, 100);
      BOOST_TEST(done.windows_removed == 3);
      BOOST_TEST(done.future_windows_removed == 1);
      BOOST_TEST(done.keys_removed == 2);
      BOOST_TEST(done.errors.empty());
      BOOST_TEST(!store->read("idle", 0, 10).window.has_value());
      BOOST_TEST(store->read("busy", 99, 10).taken == 1);
      // An idle key can be used again after its directory was removed.
      BOOST_TEST(store->claimSlot("idle", 100, 0));
    }
  }
  {
    BOOST_TEST_CONTEXT("the probe succeeds on a working store") {
      auto store = make_store();
      store->probe();
      BOOST_TEST(!store->read("k", 1, 10).window.has_value());
    }
  }
}

}  // namespace access_limiter::testing
