#pragma once

#include <cstdint>

namespace access_limiter {

// Seconds since the Unix epoch. A rate-limit window is one such second.
using Second = std::int64_t;

// Where "now" comes from. The decision never reads the clock itself: callers
// pass now in, so tests drive time with a fake clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Second now() const = 0;
};

// The wall clock (CLOCK_REALTIME). Every process sharing an ACCESS_ROOT must
// read the same wall clock, give or take kClockSkewToleranceSeconds.
class SystemClock final : public Clock {
 public:
  Second now() const override;
};

}  // namespace access_limiter
