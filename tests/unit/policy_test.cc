#include <boost/test/unit_test.hpp>

#include "limiter.h"
#include "policy.h"

using namespace access_limiter;

BOOST_AUTO_TEST_SUITE(policy)

BOOST_AUTO_TEST_CASE(every_policy_survives_its_stored_form) {
  const KeyPolicy policies[] = {{KeyPolicy::Kind::kLimit, 0},
                                {KeyPolicy::Kind::kLimit, 1},
                                {KeyPolicy::Kind::kLimit, 25},
                                {KeyPolicy::Kind::kLimit, kMaxLimit},
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
}

BOOST_AUTO_TEST_CASE(anything_else_is_not_a_policy) {
  for (const char* text : {"", "limit=", "limit=0", "limit=007", "limit=100001", "limit=1e3",
                           "limit=-1", "limit=10 ", " unlimited", "Unlimited", "blocked\n",
                           "limit=9999999", "limits=5", "limit=default2"})
    BOOST_TEST(!parsePolicy(text).has_value(), "'" << text << "'");
}

BOOST_AUTO_TEST_CASE(a_key_gets_its_own_limit_or_the_default) {
  BOOST_TEST(effectiveLimit({KeyPolicy::Kind::kLimit, 25}, 10) == 25);
  BOOST_TEST(effectiveLimit({KeyPolicy::Kind::kLimit, 0}, 10) == 10);
  BOOST_TEST(effectiveLimit({KeyPolicy::Kind::kUnlimited, 0}, 10) == 10);
}

BOOST_AUTO_TEST_SUITE_END()
