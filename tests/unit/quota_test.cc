// Several limits on one key: a burst and quotas (limit_list.h), through the
// Limiter, the decision and its headers.

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "decision.h"
#include "fake_clock.h"
#include "forwarding_store.h"
#include "limiter.h"
#include "memory_node_cache.h"
#include "memory_store.h"
#include "ratelimit_headers.h"

using namespace access_limiter;
using access_limiter::testing::FakeClock;
using access_limiter::testing::ForwardingStore;
using access_limiter::testing::MemoryNodeCache;
using access_limiter::testing::MemoryStore;

namespace {

const LimitList kBurstAndHour{{3, 1}, {5, 3600}};

std::map<std::string, std::string> headerMap(const HeaderList& list) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : list) headers[name] = value;
  return headers;
}

// Competitors fill every slot of `window_seconds`-long windows just before
// this request's first claim there: the request loses that race.
class RaceLosingStore final : public ForwardingStore {
 public:
  RaceLosingStore(MemoryStore& inner, Second window_seconds)
      : ForwardingStore(inner), inner_(inner), window_seconds_(window_seconds) {}
  bool claimSlot(const std::string& key, const Window& window, int slot) override {
    if (window.seconds == window_seconds_ && !raced_) {
      raced_ = true;
      for (int s = 0; s < limit_; ++s) inner_.claimSlot(key, window, s);
    }
    return ForwardingStore::claimSlot(key, window, slot);
  }
  int limit_ = 3;

 private:
  MemoryStore& inner_;
  Second window_seconds_;
  bool raced_ = false;
};

// A store whose releases fail (a volume that broke between a claim and its
// release).
class ReleaseFailingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  void releaseSlot(const std::string&, const Window&, int) override {
    throw StoreError("unlink", "/store/k/x", EPERM);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(quota)

BOOST_AUTO_TEST_CASE(admitted_only_when_every_limit_has_room_and_counted_in_each) {
  MemoryStore store;
  MemoryNodeCache known;
  FakeClock clock(7200);  // an hour starts
  Limiter limiter(store, known, clock, kBurstAndHour);
  std::map<Second, int> admitted;
  for (Second second = 7200; second < 7204; ++second) {
    clock.set(second);
    for (int i = 0; i < 10; ++i) admitted[second] += limiter.admitAll("k").admitted;
  }
  // 3 a second until the hour's 5 are used: 3, 2, then none.
  BOOST_TEST(admitted[7200] == 3);
  BOOST_TEST(admitted[7201] == 2);
  BOOST_TEST(admitted[7202] == 0);
  BOOST_TEST(admitted[7203] == 0);
  BOOST_TEST(store.slotsTaken("k", Window(7200, 3600)) == 5);
  // A request refused by the hour is not counted in its second.
  BOOST_TEST(store.slotsTaken("k", Window(7201, 1)) == 2);
  BOOST_TEST(store.slotsTaken("k", Window(7202, 1)) == 0);
  BOOST_TEST(store.release_calls == 0);
}

BOOST_AUTO_TEST_CASE(a_refusal_names_every_full_limit_and_waits_for_the_last) {
  MemoryStore store;
  MemoryNodeCache known;
  FakeClock clock(7200 + 3599);  // the hour's last second
  Limiter limiter(store, known, clock, LimitList{{3, 1}, {3, 3600}});
  for (int i = 0; i < 3; ++i) BOOST_TEST(limiter.admitAll("k").admitted);
  const Admission refused = limiter.admitAll("k");
  BOOST_TEST(!refused.admitted);
  BOOST_TEST(refused.violated.size() == 2u);
  auto h = headerMap(rateLimitHeaders(refused));
  BOOST_TEST(h["Retry-After"] == "1");
  clock.set(7200 + 1800);
  MemoryNodeCache fresh;
  Limiter later(store, fresh, clock, LimitList{{3, 1}, {3, 3600}});
  const Admission hour_full = later.admitAll("k");
  BOOST_TEST(!hour_full.admitted);
  BOOST_TEST((hour_full.violated == std::vector<std::size_t>{1}));
  h = headerMap(rateLimitHeaders(hour_full));
  BOOST_TEST(h["Retry-After"] == "1800");
  BOOST_TEST(h["RateLimit"] == "\"hour\";r=0;t=1800");
  BOOST_TEST(h["RateLimit-Policy"] == "\"second\";q=3;w=1, \"hour\";q=3;w=3600");
}

BOOST_AUTO_TEST_CASE(ratelimit_reports_the_limit_closest_to_exhaustion) {
  MemoryStore store;
  MemoryNodeCache known;
  FakeClock clock(86400 * 10);
  Limiter limiter(store, known, clock, LimitList{{10, 1}, {1000, 3600}, {12, 86400}});
  auto h = headerMap(rateLimitHeaders(limiter.admitAll("k")));
  BOOST_TEST(h["RateLimit-Policy"] ==
             "\"second\";q=10;w=1, \"hour\";q=1000;w=3600, \"day\";q=12;w=86400");
  BOOST_TEST(h["RateLimit"] == "\"second\";r=9;t=1");  // 9 left of 10, 11 of 12
  limiter.admitAll("k");
  h = headerMap(rateLimitHeaders(limiter.admitAll("k")));
  BOOST_TEST(h["RateLimit"] == "\"second\";r=7;t=1");
  clock.set(86400 * 10 + 5);
  h = headerMap(rateLimitHeaders(limiter.admitAll("k")));
  BOOST_TEST(h["RateLimit"] == "\"day\";r=8;t=86395");  // 8 of 12 left, 9 of 10
  BOOST_TEST(h.count("Retry-After") == 0u);
}

BOOST_AUTO_TEST_CASE(a_race_lost_on_one_limit_gives_back_the_others_claims) {
  MemoryStore memory;
  RaceLosingStore store(memory, 1);
  MemoryNodeCache known;
  FakeClock clock(7200);
  // The node knows the hour has the fewer left (1 after this request, 2 for
  // the second), so it is claimed first, then the
  // second is lost to competitors: the hour's claim is released.
  for (int s = 0; s < 3; ++s) memory.claimSlot("k", Window(7200, 3600), s);
  known.learn("k\n3600", KnownWindow{7200, 3});
  Limiter limiter(store, known, clock, kBurstAndHour);
  const Admission refused = limiter.admitAll("k");
  BOOST_TEST(!refused.admitted);
  BOOST_TEST((refused.violated == std::vector<std::size_t>{0}));
  BOOST_TEST(memory.release_calls == 1);
  BOOST_TEST(memory.slotsTaken("k", Window(7200, 3600)) == 3);  // slot 3 given back
  BOOST_TEST(memory.slotsTaken("k", Window(7200, 1)) == 3);  // the competitors'
  // What the hour had before the request, which it still has.
  BOOST_TEST(refused.decisions[1].remaining == 2);
  BOOST_TEST(headerMap(rateLimitHeaders(refused))["Retry-After"] == "1");
}

BOOST_AUTO_TEST_CASE(a_release_that_fails_is_noted_and_the_request_still_refused) {
  MemoryStore memory;
  RaceLosingStore racing(memory, 1);
  ReleaseFailingStore store(racing);
  MemoryNodeCache known;
  FakeClock clock(7200);
  for (int s = 0; s < 3; ++s) memory.claimSlot("k", Window(7200, 3600), s);
  known.learn("k\n3600", KnownWindow{7200, 3});
  Limiter limiter(store, known, clock, kBurstAndHour);
  Admission refused;
  BOOST_CHECK_NO_THROW(refused = limiter.admitAll("k"));  // never a StoreError: fail-open would admit
  BOOST_TEST(!refused.admitted);
  BOOST_TEST(refused.release_errors.size() == 1u);
  BOOST_TEST(memory.slotsTaken("k", Window(7200, 3600)) == 4);  // the under-count of one
}

BOOST_AUTO_TEST_CASE(a_refusal_reports_a_full_limit_and_the_others_as_they_were) {
  MemoryStore store;
  MemoryNodeCache known;
  FakeClock clock(7200 + 800);
  Limiter limiter(store, known, clock, LimitList{{2, 1}, {3, 3600}});
  limiter.admitAll("k");
  limiter.admitAll("k");
  // The second is full, the hour has 1 left: the 429 speaks of the second.
  const Admission refused = limiter.admitAll("k");
  BOOST_TEST((refused.violated == std::vector<std::size_t>{0}));
  BOOST_TEST(refused.decisions[1].remaining == 1);
  auto h = headerMap(rateLimitHeaders(refused));
  BOOST_TEST(h["RateLimit"] == "\"second\";r=0;t=1");
  BOOST_TEST(h["Retry-After"] == "1");
  clock.set(7200 + 801);
  BOOST_TEST(limiter.admitAll("k").admitted);  // the hour's last
}

BOOST_AUTO_TEST_CASE(a_node_that_knew_nothing_names_every_full_limit) {
  MemoryStore store;
  FakeClock clock(7200 + 800);
  for (int s = 0; s < 2; ++s) store.claimSlot("k", Window(7200 + 800, 1), s);
  for (int s = 0; s < 6; ++s) store.claimSlot("k", Window(7200, 3600), s);
  MemoryNodeCache fresh;
  Limiter limiter(store, fresh, clock, LimitList{{2, 1}, {6, 3600}});
  const Admission refused = limiter.admitAll("k");
  BOOST_TEST(!refused.admitted);
  BOOST_TEST((refused.violated == std::vector<std::size_t>{0, 1}));
  auto h = headerMap(rateLimitHeaders(refused));
  BOOST_TEST(h["Retry-After"] == "2800");
  BOOST_TEST(h["RateLimit"] == "\"hour\";r=0;t=2800");
  BOOST_TEST(store.release_calls == 0);  // the second, claimed first, was lost: nothing to give back
}

BOOST_AUTO_TEST_CASE(a_429_names_the_violated_policies_unless_the_limit_is_plain) {
  MemoryStore store;
  MemoryNodeCache known;
  FakeClock clock(7200);
  DecisionSettings quota(10, 1, false, false, LimitList{{1, 1}, {1, 3600}});
  BOOST_TEST(decideForKey(store, known, clock, "q", quota).admitted);
  Verdict refused = decideForKey(store, known, clock, "q", quota);
  BOOST_TEST(refused.refused_status == 429);
  BOOST_TEST((refused.violated_policies == std::vector<std::string>{"second", "hour"}));
  BOOST_TEST(refused.reported_policy_window == 3600);
  const DecisionSettings plain(1, 1, false, false);
  BOOST_TEST(decideForKey(store, known, clock, "p", plain).admitted);
  refused = decideForKey(store, known, clock, "p", plain);
  BOOST_TEST(refused.refused_status == 429);
  BOOST_TEST(refused.violated_policies.empty());
  BOOST_TEST(refused.reported_policy_window == 0);
}

BOOST_AUTO_TEST_CASE(a_keys_own_list_replaces_the_locations_limit) {
  MemoryStore store;
  MemoryNodeCache known;
  FakeClock clock(7200);
  store.writePolicy("gold", KeyPolicy{KeyPolicy::Kind::kLimit, 0, LimitList{{2, 1}, {3, 60}}});
  const DecisionSettings location(100, 1, false, false);
  int admitted = 0;
  for (Second s = 7200; s < 7203; ++s) {
    clock.set(s);
    for (int i = 0; i < 5; ++i) admitted += decideForKey(store, known, clock, "gold", location).admitted;
  }
  BOOST_TEST(admitted == 3);
  const Verdict v = decideForKey(store, known, clock, "gold", location);
  BOOST_TEST(headerMap(v.headers)["RateLimit-Policy"] == "\"second\";q=2;w=1, \"minute\";q=3;w=60");
  BOOST_TEST((v.violated_policies == std::vector<std::string>{"minute"}));
}

BOOST_AUTO_TEST_CASE(a_day_of_twenty_thousand_costs_a_logarithm_of_looks) {
  MemoryStore store;
  FakeClock clock(86400 * 20);
  for (int s = 0; s < 19000; ++s) store.claimSlot("big", Window(86400 * 20, 86400), s);
  MemoryNodeCache nothing_known;
  Limiter limiter(store, nothing_known, clock, LimitList{{20000, 86400}});
  store.count_calls = 0;
  store.claim_calls = 0;
  const Admission a = limiter.admitAll("big");
  BOOST_TEST(a.admitted);
  BOOST_TEST(a.decisions[0].slot == 19000);
  // One claim lost at slot 0, then a count that gallops and halves; the
  // memory store counts one call per count, so check the claims: two.
  BOOST_TEST(store.claim_calls == 2);
  BOOST_TEST(store.count_calls <= 2);
}

BOOST_AUTO_TEST_SUITE_END()
