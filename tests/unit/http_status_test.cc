#include <boost/test/unit_test.hpp>

#include "http_status.h"

using namespace access_limiter;

BOOST_AUTO_TEST_SUITE(status_table)

BOOST_AUTO_TEST_CASE(the_codes_we_answer_have_their_phrases) {
  const std::pair<int, const char*> expected[] = {
      {200, "OK"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {405, "Method Not Allowed"},
      {411, "Length Required"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {415, "Unsupported Media Type"},
      {429, "Too Many Requests"},
      {500, "Internal Server Error"},
      {503, "Service Unavailable"},
  };
  for (const auto& [code, phrase] : expected)
    BOOST_TEST(statusLine(code) == std::to_string(code) + " " + phrase);
}

BOOST_AUTO_TEST_CASE(every_code_in_the_seed_table_is_known) {
  // The status table of "Integration of PHP Error Handling".
  for (int code : {100, 101, 102, 200, 201, 202, 203, 204, 205, 206, 207, 226, 300, 301, 302,
                   303, 304, 305, 307, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410,
                   411, 412, 413, 414, 415, 416, 417, 418, 422, 423, 424, 426, 500, 501, 502,
                   503, 504, 505, 506, 507, 509, 510})
    BOOST_TEST(reasonPhrase(code) != nullptr, "no phrase for " << code);
}

BOOST_AUTO_TEST_CASE(unknown_codes_fall_back_to_their_class) {
  BOOST_TEST(reasonPhrase(299) == nullptr);
  BOOST_TEST(statusLine(299) == "299 Success");
  BOOST_TEST(statusLine(499) == "499 Client Error");
  BOOST_TEST(statusLine(599) == "599 Server Error");
  BOOST_TEST(statusLine(42) == "42 Unknown");
}

BOOST_AUTO_TEST_SUITE_END()
