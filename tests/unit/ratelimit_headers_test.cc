#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "ratelimit_headers.h"

using namespace access_limiter;

namespace {
std::map<std::string, std::string> headersOf(const Decision& d) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : rateLimitHeaders(d)) {
    BOOST_TEST(headers.count(name) == 0u, name << " appears once");
    headers[name] = value;
  }
  return headers;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(ratelimit_headers)

BOOST_AUTO_TEST_CASE(an_admission_has_the_fields_and_no_retry_after) {
  const Decision admitted = decide(1000, 7, 1, WindowState{1000, 2});
  auto h = headersOf(admitted);
  BOOST_TEST(h["RateLimit-Policy"] == "\"default\";q=7;w=1");
  BOOST_TEST(h["RateLimit"] == "\"default\";r=4;t=1");
  BOOST_TEST(h.count("Retry-After") == 0u);
}

BOOST_AUTO_TEST_CASE(a_rejection_says_when_to_retry) {
  auto now = headersOf(decide(1000, 3, 1, WindowState{1000, 3}));
  BOOST_TEST(now["Retry-After"] == "1");
  BOOST_TEST(now["RateLimit"] == "\"default\";r=0;t=1");
  // Counted in a window a node ahead of us opened: wait for its end.
  auto ahead = headersOf(decide(1000, 3, 1, WindowState{1000 + kClockSkewToleranceSeconds, 3}));
  BOOST_TEST(ahead["Retry-After"] == std::to_string(1 + kClockSkewToleranceSeconds));
  BOOST_TEST(ahead["RateLimit"] ==
             "\"default\";r=0;t=" + std::to_string(1 + kClockSkewToleranceSeconds));
}

BOOST_AUTO_TEST_CASE(retry_after_never_exceeds_a_window_plus_the_tolerance) {
  for (Second ahead : {Second{0}, Second{1}, Second{2}, Second{5}, Second{3600}, Second{2306818927 - 1000}}) {
    auto h = headersOf(decide(1000, 1, 1, WindowState{1000 + ahead, 1}));
    const long retry = std::stol(h.count("Retry-After") ? h["Retry-After"] : "0");
    BOOST_TEST(retry <= 1 + kClockSkewToleranceSeconds, "window " << ahead << " s ahead");
  }
}

BOOST_AUTO_TEST_SUITE_END()
