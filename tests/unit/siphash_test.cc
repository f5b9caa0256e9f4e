#include <boost/test/unit_test.hpp>

#include <string>

#include "siphash.h"

using namespace access_limiter;

BOOST_AUTO_TEST_SUITE(siphash)

// The reference vectors: key bytes 00..0f, message bytes 00..(n-1).
constexpr std::uint64_t kK0 = 0x0706050403020100ull;
constexpr std::uint64_t kK1 = 0x0f0e0d0c0b0a0908ull;

std::string messageOf(std::size_t length) {
  std::string message;
  for (std::size_t i = 0; i < length; ++i) message += static_cast<char>(i);
  return message;
}

BOOST_AUTO_TEST_CASE(the_64_bit_output_matches_the_paper) {
  BOOST_TEST(sipHash64(kK0, kK1, messageOf(0)) == 0x726fdb47dd0e0e31ull);
  BOOST_TEST(sipHash64(kK0, kK1, messageOf(15)) == 0xa129ca6149be45e5ull);
}

BOOST_AUTO_TEST_CASE(the_128_bit_output_matches_the_reference) {
  const auto empty = sipHash128(kK0, kK1, messageOf(0));
  BOOST_TEST(empty.first == 0xe6a825ba047f81a3ull);
  BOOST_TEST(empty.second == 0x930255c71472f66dull);
}

BOOST_AUTO_TEST_SUITE_END()
