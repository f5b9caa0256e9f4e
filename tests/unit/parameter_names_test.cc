#include <boost/test/unit_test.hpp>

#include <string>

#include "parameter_names.h"

using namespace access_limiter;

BOOST_AUTO_TEST_SUITE(parameter_names)

struct NameCase {
  std::string name;
  bool read_as_app_id;
};

// What PHP 7 and 8 register a name as, checked against php-cgi in
// tests/apache/guard.t; the rest of the world compares names exactly.
BOOST_AUTO_TEST_CASE(names_php_reads_as_the_key) {
  const NameCase cases[] = {
      {"app_id", true},
      {"app.id", true},
      {"app id", true},
      {"app[id", true},            // a '[' without ']' is '_'
      {"  app_id", true},          // leading spaces dropped
      {"app_id[]", true},          // an array of app_id
      {"app_id[0]", true},
      {"app_id[x][y]", true},
      {std::string("app_id\0x", 8), true},  // cut at NUL
      {"APP_ID", false},           // case matters
      {"app_idx", false},
      {"xapp_id", false},
      {"app__id", false},
      {"app-id", false},
      {" ", false},
      {"", false},
      {"app_id]", true},           // Rack drops brackets around a name
      {"[app_id]", true},
      {"]]app_id", true},
      {"\tapp_id", false},         // only spaces are dropped
  };
  for (const NameCase& c : cases) {
    BOOST_TEST_CONTEXT("name \"" << c.name << "\"") {
      BOOST_TEST(readAsParameter(c.name, "app_id") == c.read_as_app_id);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_rest_after_an_unclosed_bracket_differs_between_php_7_and_8) {
  // "a[b.c": PHP 8 registers a_b_c, PHP 7 a_b.c; both are honoured.
  BOOST_TEST(readAsParameter("a[b.c", "a_b_c"));
  BOOST_TEST(readAsParameter("a[b.c", "a_b.c"));
}

BOOST_AUTO_TEST_CASE(a_key_name_php_would_rename_is_matched_as_php_reads_it) {
  BOOST_TEST(readAsParameter("api_key", "api.key"));
  BOOST_TEST(readAsParameter("api key", "api.key"));
}

BOOST_AUTO_TEST_SUITE_END()
