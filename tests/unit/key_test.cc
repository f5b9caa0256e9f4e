#include <boost/test/unit_test.hpp>

#include <iterator>
#include <set>
#include <string>

#include "key.h"

using access_limiter::encodeKey;
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

BOOST_AUTO_TEST_SUITE(key_encoding)

BOOST_AUTO_TEST_CASE(any_value_becomes_a_valid_key) {
  const std::pair<const char*, const char*> cases[] = {
      {"plain-Key_1.x", "plain-Key_1.x"},
      {"2001:db8::1", "2001~3Adb8~3A~3A1"},
      {"203.0.113.5", "203.0.113.5"},
      {"~41", "~7E41"},
      {".hidden", "~2Ehidden"},
      {"..", "~2E."},
      {"a/b", "a~2Fb"},
      {"sk+base64/==", "sk~2Bbase64~2F~3D~3D"},
      {"caf\xc3\xa9", "caf~C3~A9"},
  };
  for (const auto& [value, key] : cases) {
    BOOST_TEST_CONTEXT(value) {
      BOOST_TEST(encodeKey(value) == key);
      BOOST_TEST(isValidKey(encodeKey(value)));
    }
  }
  BOOST_TEST(encodeKey("").empty());
}

BOOST_AUTO_TEST_CASE(distinct_values_never_share_a_key) {
  // Values that a careless encoding would merge: '~' itself, an escape's
  // look-alike, and a leading dot.
  const char* values[] = {"A", "~41", "~7E41", ".a", "~2Ea", "%2Ea", "a.", "a~", "a~7E"};
  std::set<std::string> keys;
  for (const char* v : values) keys.insert(encodeKey(v));
  BOOST_TEST(keys.size() == std::size(values));
}

BOOST_AUTO_TEST_SUITE_END()
