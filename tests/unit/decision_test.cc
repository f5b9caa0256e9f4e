#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

#include "decision.h"
#include "fake_clock.h"
#include "memory_node_cache.h"
#include "memory_store.h"

using namespace access_limiter;
using access_limiter::testing::FakeClock;
using access_limiter::testing::MemoryNodeCache;
using access_limiter::testing::MemoryStore;

namespace {

std::string headerOf(const Verdict& verdict, const std::string& name) {
  for (const auto& [header, value] : verdict.headers)
    if (header == name) return value;
  return "(none)";
}

// What a key's three requests in one window get, with a location limit of 2
// (a key's own limit of 1 where it has one).
struct DecisionCase {
  const char* name;
  std::optional<KeyPolicy> policy;
  bool known_keys_only;
  bool dry_run;
  int first_status;          // 200 admitted, else the refusal's status
  int third_status;          // the third request: past a limit of 2 (or 1)
  std::string third_dry_run;  // kDryRunHeader on the third, "(none)" outside a dry run
  bool counted;              // RateLimit fields on the answers
  std::string detail_has;    // in a 401/403's detail
};

KeyPolicy limitOf(int limit) { return KeyPolicy{KeyPolicy::Kind::kLimit, limit}; }
const KeyPolicy kUnlimited{KeyPolicy::Kind::kUnlimited, 0};
const KeyPolicy kBlocked{KeyPolicy::Kind::kBlocked, 0};

}  // namespace

BOOST_AUTO_TEST_SUITE(decision)

BOOST_AUTO_TEST_CASE(every_policy_dry_run_and_known_keys_case) {
  const DecisionCase cases[] = {
      // policy          known  dry    1st  3rd  dry-run header on the 3rd
      {"unregistered", std::nullopt, false, false, 200, 429, "(none)", true, ""},
      {"unregistered, dry run", std::nullopt, false, true, 200, 200, "429", true, ""},
      {"unregistered, known keys only", std::nullopt, true, false, 401, 401, "(none)", false, "is not registered"},
      {"unregistered, known keys only, dry run", std::nullopt, true, true, 200, 200, "401", false, ""},
      {"own limit 1", limitOf(1), false, false, 200, 429, "(none)", true, ""},
      {"own limit 1, dry run", limitOf(1), false, true, 200, 200, "429", true, ""},
      {"own limit 1, known keys only", limitOf(1), true, false, 200, 429, "(none)", true, ""},
      {"own limit 1, known keys only, dry run", limitOf(1), true, true, 200, 200, "429", true, ""},
      {"registered, default limit", limitOf(0), true, false, 200, 429, "(none)", true, ""},
      {"registered, default limit, dry run", limitOf(0), false, true, 200, 200, "429", true, ""},
      {"unlimited", kUnlimited, false, false, 200, 200, "(none)", false, ""},
      {"unlimited, known keys only", kUnlimited, true, false, 200, 200, "(none)", false, ""},
      {"unlimited, dry run", kUnlimited, true, true, 200, 200, "200", false, ""},
      {"blocked", kBlocked, false, false, 403, 403, "(none)", false, "is blocked"},
      {"blocked, known keys only", kBlocked, true, false, 403, 403, "(none)", false, "is blocked"},
      {"blocked, dry run", kBlocked, false, true, 200, 200, "403", false, ""},
      {"blocked, known keys only, dry run", kBlocked, true, true, 200, 200, "403", false, ""},
  };
  for (const DecisionCase& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      MemoryStore store;
      MemoryNodeCache known;
      FakeClock clock(1700000000);
      if (c.policy) store.writePolicy("k", *c.policy);
      const DecisionSettings settings{2, 1, c.known_keys_only, c.dry_run};
      const Verdict first = decideForKey(store, known, clock, "k", settings);
      decideForKey(store, known, clock, "k", settings);
      const Verdict third = decideForKey(store, known, clock, "k", settings);
      BOOST_TEST((first.admitted ? 200 : first.refused_status) == c.first_status);
      BOOST_TEST((third.admitted ? 200 : third.refused_status) == c.third_status);
      BOOST_TEST(headerOf(third, kDryRunHeader) == c.third_dry_run);
      BOOST_TEST(third.dry_run_changed == (c.dry_run && c.third_dry_run != "200"));
      BOOST_TEST((headerOf(first, "RateLimit-Policy") != "(none)") == c.counted);
      if (!c.detail_has.empty()) BOOST_TEST(third.refusal_detail.find(c.detail_has) != std::string::npos);
      if (!third.admitted && third.refused_status == 429) {
        BOOST_TEST(headerOf(third, "Retry-After") != "(none)");
      }
      if (c.dry_run) BOOST_TEST(headerOf(third, "Retry-After") == "(none)");
    }
  }
}

BOOST_AUTO_TEST_CASE(the_last_slot_is_said_once_and_nothing_else) {
  MemoryStore store;
  MemoryNodeCache known;
  FakeClock clock(1700000000);
  const DecisionSettings settings{2, 1, false, false};
  BOOST_TEST(decideForKey(store, known, clock, "k", settings).limit_reached.empty());
  BOOST_TEST(decideForKey(store, known, clock, "k", settings).limit_reached ==
             "key k reached its limit of 2 per 1 s (window 1700000000)");
  BOOST_TEST(decideForKey(store, known, clock, "k", settings).limit_reached.empty());  // a 429
  BOOST_TEST(decideForKey(store, known, clock, "other", settings).limit_reached.empty());
}

BOOST_AUTO_TEST_CASE(a_policy_change_is_seen_the_next_second) {
  MemoryStore store;
  MemoryNodeCache known;
  FakeClock clock(1700000000);
  const DecisionSettings settings{2, 1, false, false};
  BOOST_TEST(decideForKey(store, known, clock, "k", settings).admitted);
  store.writePolicy("k", kBlocked);
  BOOST_TEST(decideForKey(store, known, clock, "k", settings).admitted);  // recalled this second
  clock.set(1700000001);
  BOOST_TEST(decideForKey(store, known, clock, "k", settings).refused_status == 403);
}

BOOST_AUTO_TEST_CASE(store_failures_are_the_callers) {
  MemoryStore store;
  MemoryNodeCache known;
  FakeClock clock(1700000000);
  store.fail_with_errno = EIO;
  BOOST_CHECK_THROW(decideForKey(store, known, clock, "k", DecisionSettings{}), StoreError);
}

BOOST_AUTO_TEST_SUITE_END()
