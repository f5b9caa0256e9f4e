#pragma once

// The contract every Store keeps, as one suite run against each backend.
// Call checkStoreConformance(factory) from a test case; `factory` returns a
// fresh, empty store each time.

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include "store.h"

namespace access_limiter::testing {

template <typename Factory>
void checkStoreConformance(Factory make_store) {
  {
    BOOST_TEST_CONTEXT("an unknown key has nothing taken") {
      auto store = make_store();
      BOOST_TEST(store->countTaken("k", 100, 0, 10) == 0);
    }
  }
  {
    BOOST_TEST_CONTEXT("a slot is claimed once; the taken prefix is counted") {
      auto store = make_store();
      BOOST_TEST(store->claimSlot("k", 100, 0));
      BOOST_TEST(!store->claimSlot("k", 100, 0));
      BOOST_TEST(store->claimSlot("k", 100, 1));
      BOOST_TEST(store->claimSlot("k", 100, 2));
      BOOST_TEST(store->countTaken("k", 100, 0, 10) == 3);
    }
  }
  {
    BOOST_TEST_CONTEXT("every prefix length is counted exactly, from whatever was known") {
      for (int limit : {1, 2, 3, 7, 10, 64}) {
        auto store = make_store();
        for (int taken = 0; taken <= limit; ++taken) {
          for (int known = 0; known <= taken; ++known)
            BOOST_TEST(store->countTaken("k", 5, known, limit) == taken,
                       "limit " << limit << ", " << taken << " taken, " << known << " known");
          if (taken < limit) BOOST_TEST(store->claimSlot("k", 5, taken));
        }
        BOOST_TEST(store->countTaken("k", 5, limit + 3, limit) == limit);
      }
    }
  }
  {
    BOOST_TEST_CONTEXT("a released slot is free again, and only that slot") {
      auto store = make_store();
      for (int slot = 0; slot < 3; ++slot) BOOST_TEST(store->claimSlot("k", Window(3600, 3600), slot));
      store->releaseSlot("k", Window(3600, 3600), 2);
      BOOST_TEST(store->countTaken("k", Window(3600, 3600), 0, 10) == 2);
      store->releaseSlot("k", Window(3600, 3600), 2);  // gone already: not an error
      store->releaseSlot("never", Window(3600, 3600), 0);
      BOOST_TEST(store->claimSlot("k", Window(3600, 3600), 2));
      BOOST_TEST(!store->claimSlot("k", Window(3600, 3600), 1));
      BOOST_TEST(store->countTaken("k", Window(3600, 1), 0, 10) == 0);
    }
  }
  {
    BOOST_TEST_CONTEXT("keys and windows are independent") {
      auto store = make_store();
      BOOST_TEST(store->claimSlot("a", 100, 0));
      BOOST_TEST(store->claimSlot("b", 100, 0));
      BOOST_TEST(store->claimSlot("a", 101, 0));
      BOOST_TEST(store->countTaken("a", 100, 0, 10) == 1);
      BOOST_TEST(store->countTaken("b", 100, 0, 10) == 1);
      BOOST_TEST(store->countTaken("b", 101, 0, 10) == 0);
    }
  }
  {
    BOOST_TEST_CONTEXT("windows of different lengths are different counters") {
      auto store = make_store();
      BOOST_TEST(store->claimSlot("k", Window(120, 60), 0));
      BOOST_TEST(store->claimSlot("k", Window(120, 1), 0));
      BOOST_TEST(store->claimSlot("k", Window(120, 60), 1));
      BOOST_TEST(store->countTaken("k", Window(120, 60), 0, 10) == 2);
      BOOST_TEST(store->countTaken("k", Window(120, 1), 0, 10) == 1);
      BOOST_TEST(store->countTaken("k", Window(120, 3600), 0, 10) == 0);
    }
  }
  {
    BOOST_TEST_CONTEXT("a window is collected once it has ended, whatever its length") {
      auto store = make_store();
      BOOST_TEST(store->claimSlot("k", Window(120, 60), 0));
      BOOST_TEST(store->claimSlot("k", Window(178, 1), 0));
      Collection done = store->collectAll(179, 181);  // 120+60 ends after 179
      BOOST_TEST(done.windows_removed == 1);
      BOOST_TEST(store->countTaken("k", Window(120, 60), 0, 10) == 1);
      BOOST_TEST(store->collectAll(180, 182).windows_removed == 1);
      BOOST_TEST(store->countTaken("k", Window(120, 60), 0, 10) == 0);
    }
  }
  {
    BOOST_TEST_CONTEXT("a policy is kept, replaced and removed; it keeps its key") {
      auto store = make_store();
      BOOST_TEST(!store->readPolicy("k").has_value());
      store->writePolicy("k", KeyPolicy{KeyPolicy::Kind::kLimit, 25});
      BOOST_TEST((store->readPolicy("k") == KeyPolicy{KeyPolicy::Kind::kLimit, 25}));
      store->writePolicy("k", KeyPolicy{KeyPolicy::Kind::kBlocked, 0});
      BOOST_TEST((store->readPolicy("k") == KeyPolicy{KeyPolicy::Kind::kBlocked, 0}));
      BOOST_TEST(store->keys() == std::vector<std::string>{"k"});
      BOOST_TEST(store->collectAll(1000, 1001).keys_removed == 0);  // registered, not idle
      BOOST_TEST(store->readPolicy("k").has_value());
      BOOST_TEST(store->removePolicy("k"));
      BOOST_TEST(!store->removePolicy("k"));
      BOOST_TEST(!store->readPolicy("k").has_value());
      BOOST_TEST(store->collectAll(1000, 1001).keys_removed == 1);
    }
  }
  {
    BOOST_TEST_CONTEXT("collection removes only windows outside the kept range") {
      auto store = make_store();
      for (Second w : {100, 101, 102, 103, 900}) BOOST_TEST(store->claimSlot("k", w, 0));
      Collection done = store->collectAll(102, 103);
      BOOST_TEST(done.windows_removed == 3);
      BOOST_TEST(done.future_windows_removed == 1);
      BOOST_TEST(done.furthest_future == 900);
      BOOST_TEST(done.keys_removed == 0);
      BOOST_TEST(store->countTaken("k", 102, 0, 10) == 1);
      BOOST_TEST(store->countTaken("k", 103, 0, 10) == 1);
      BOOST_TEST(store->countTaken("k", 101, 0, 10) == 0);
      BOOST_TEST(store->countTaken("k", 900, 0, 10) == 0);
      BOOST_TEST(store->collectAll(102, 103).windows_removed == 0);
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
      BOOST_TEST(store->countTaken("idle", 50, 0, 10) == 0);
      BOOST_TEST(store->countTaken("busy", 99, 0, 10) == 1);
      // An idle key can be used again after its directory was removed.
      BOOST_TEST(store->claimSlot("idle", 100, 0));
    }
  }
  {
    BOOST_TEST_CONTEXT("the probe succeeds on a working store") {
      auto store = make_store();
      store->probe();
      BOOST_TEST(store->countTaken("k", 1, 0, 10) == 0);
    }
  }
}

}  // namespace access_limiter::testing
