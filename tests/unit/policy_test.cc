#include <boost/test/unit_test.hpp>

#include "limit_list.h"
#include "limiter.h"
#include "policy.h"

using namespace access_limiter;

BOOST_AUTO_TEST_SUITE(policy)

BOOST_AUTO_TEST_CASE(every_policy_survives_its_stored_form) {
  const KeyPolicy policies[] = {{KeyPolicy::Kind::kLimit, 0},
                                {KeyPolicy::Kind::kLimit, 1},
                                {KeyPolicy::Kind::kLimit, 25},
                                {KeyPolicy::Kind::kLimit, kMaxLimit},
                                {KeyPolicy::Kind::kLimit, 0, {{10, 1}, {1000, 3600}, {20000, 86400}}},
                                {KeyPolicy::Kind::kLimit, 0,
                                 {{kMaxLimit, 86396}, {kMaxLimit, 86397}, {kMaxLimit, 86398},
                                  {kMaxLimit, 86399}}},
                                {KeyPolicy::Kind::kUnlimited, 0},
                                {KeyPolicy::Kind::kBlocked, 0}};
  for (const KeyPolicy& p : policies) {
    BOOST_TEST_CONTEXT(formatPolicy(p)) {
      const auto back = parsePolicy(formatPolicy(p));
      BOOST_TEST(back.has_value());
      BOOST_TEST((back && *back == p));
    }
  }
  BOOST_TEST(formatPolicy({KeyPolicy::Kind::kLimit, 25}) == "limit=25");
  BOOST_TEST(formatPolicy({KeyPolicy::Kind::kLimit, 0}) == "limit=default");
  BOOST_TEST(formatPolicy({KeyPolicy::Kind::kLimit, 0, {{10, 1}, {1000, 3600}}}) ==
             "limit=10/1s,1000/1h");
}

BOOST_AUTO_TEST_CASE(anything_else_is_not_a_policy) {
  for (const char* text : {"", "limit=", "limit=0", "limit=007", "limit=100001", "limit=1e3",
                           "limit=-1", "limit=10 ", " unlimited", "Unlimited", "blocked\n",
                           "limit=9999999", "limits=5", "limit=default2", "limit=10/0s",
                           "limit=10/1s,5/1s", "limit=10/2d", "limit=10/1s,"})
    BOOST_TEST(!parsePolicy(text).has_value(), "'" << text << "'");
}

BOOST_AUTO_TEST_CASE(a_key_gets_its_own_limits_or_the_locations) {
  const LimitList location{{10, 60, true}};
  const LimitList quota{{10, 1}, {1000, 3600}};
  BOOST_TEST((effectiveLimits(KeyPolicy{KeyPolicy::Kind::kLimit, 25}, location, 60) ==
              LimitList{{25, 60, true}}));
  BOOST_TEST((effectiveLimits(KeyPolicy{KeyPolicy::Kind::kLimit, 0}, location, 60) == location));
  BOOST_TEST((effectiveLimits(std::nullopt, quota, 60) == quota));
  // A key's own list replaces the location's; its plain N keeps ACCESS_WINDOW.
  BOOST_TEST((effectiveLimits(KeyPolicy{KeyPolicy::Kind::kLimit, 0, quota}, location, 60) == quota));
  BOOST_TEST((effectiveLimits(KeyPolicy{KeyPolicy::Kind::kLimit, 5}, quota, 1) ==
              LimitList{{5, 1, true}}));
}

BOOST_AUTO_TEST_CASE(limit_lists_are_read_in_every_unit_and_written_canonically) {
  std::string problem;
  const auto list = parseLimitList(" 20000/1d , 10/1s,1000/3600 ", problem);
  BOOST_TEST_REQUIRE(list.has_value());
  BOOST_TEST((*list == LimitList{{10, 1}, {1000, 3600}, {20000, 86400}}));
  BOOST_TEST(formatLimitList(*list) == "10/1s,1000/1h,20000/1d");
  BOOST_TEST(formatLimitList(parseLimitList("5/90,7/120s", problem).value()) == "5/90s,7/2m");
  BOOST_TEST(!parseLimitList("9/2m30s", problem).has_value());
}

BOOST_AUTO_TEST_CASE(a_bad_limit_list_says_why) {
  struct Case {
    const char* text;
    const char* problem;
  };
  const Case cases[] = {
      {"10", "each limit is N/W"},
      {"0/1s", "each N is a whole number from 1 to 100000"},
      {"10/0", "each W is a count of seconds"},
      {"10/1w", "each W is a count of seconds"},
      {"10/2d", "each W is a count of seconds, or a count with s, m, h or d, from 1s to 1d"},
      {"10/1s,20/1", "two limits on the window 1s"},
      {"1/1s,2/2s,3/3s,4/4s,5/5s", "at most 4 limits"},
      {"10/1s,", "each limit is N/W"},
      {"10/01s", "each W is a count of seconds, or a count with s, m, h or d, from 1s to 1d, without leading zeros"},
      {"10/ 1s", "each W is a count of seconds"},
  };
  for (const Case& c : cases) {
    std::string problem;
    BOOST_TEST(!parseLimitList(c.text, problem).has_value(), c.text);
    BOOST_TEST(problem.rfind(c.problem, 0) == 0, c.text << ": " << problem);
  }
}

BOOST_AUTO_TEST_CASE(policies_are_named_by_their_window) {
  BOOST_TEST(policyName({10, 1, true}) == "default");
  BOOST_TEST(policyName({10, 60, true}) == "default");
  BOOST_TEST(policyName({10, 1}) == "second");
  BOOST_TEST(policyName({10, 60}) == "minute");
  BOOST_TEST(policyName({10, 3600}) == "hour");
  BOOST_TEST(policyName({10, 86400}) == "day");
  BOOST_TEST(policyName({10, 10}) == "10s");
  BOOST_TEST(policyName({10, 300}) == "5m");
  BOOST_TEST(policyName({10, 90}) == "90s");
  BOOST_TEST(policyName({10, 7200}) == "2h");
}

BOOST_AUTO_TEST_SUITE_END()
