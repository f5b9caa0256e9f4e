#include <boost/test/unit_test.hpp>

#include <string>

#include "key.h"

using access_limiter::isValidKey;

BOOST_AUTO_TEST_SUITE(key_validation)

BOOST_AUTO_TEST_CASE(accepted_keys) {
  const std::string accepted[] = {"demo",  "a",     "A-Z_09.~x", "app.v2",
                                  "x..y",  "~home", "-",         std::string(128, 'k')};
  for (const std::string& key : accepted)
    BOOST_TEST(isValidKey(key), "should accept \"" << key << "\"");
}

BOOST_AUTO_TEST_CASE(refused_keys) {
  const std::string refused[] = {
      "",                         // empty
      std::string(129, 'k'),      // over 128 bytes
      ".", "..", ".hidden",       // leading dot: self, parent, hidden, probes
      "../etc", "a/b", "/etc",    // separators
      "a\\b", "a b", "a+b",       // backslash, space, plus
      "%2e%2e", "a%00b",          // still percent-encoded
      std::string("a\0b", 3),     // NUL inside
      "caf\xc3\xa9",              // non-ASCII
      "a\nb", "a\tb",             // control characters
  };
  for (const std::string& key : refused)
    BOOST_TEST(!isValidKey(key), "should refuse a key of " << key.size() << " bytes");
}

BOOST_AUTO_TEST_SUITE_END()
