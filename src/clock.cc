#include "clock.h"

#include <ctime>

namespace access_limiter {

Second SystemClock::now() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<Second>(ts.tv_sec);
}

}  // namespace access_limiter
