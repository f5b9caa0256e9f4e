#define BOOST_TEST_MODULE access-limiter
#include <boost/test/unit_test.hpp>
