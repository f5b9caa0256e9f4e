#pragma once

#include <cstdint>

namespace access_limiter {

// Seconds since the Unix epoch. A rate-limit window is one such second.
using Second = std::int64_t;

// How far apart the clocks of the nodes sharing a store may be, in seconds.
// A window up to this far ahead of this node's clock is honoured (another
// node's clock runs ahead); one further ahead is a clock that is off, and is
// neither counted in nor kept. Old windows are kept this long after a newer
// one opens, so that a node lagging by less than this finds its window.
inline constexpr Second kClockSkewToleranceSeconds = 1;

// Longest window (ACCESS_WINDOW): one day.
inline constexpr Second kMaxWindowSeconds = 86400;

// One counting window: `seconds` long from `start`, and `start` a multiple
// of `seconds` since the epoch, so that every node agrees on it. Implicit
// from a Second on purpose: a one-second window is named by its second.
struct Window {
  Window(Second start_second, Second length_seconds = 1)  // NOLINT(google-explicit-constructor)
      : start(start_second), seconds(length_seconds) {}
  Second start;
  Second seconds;
  Second end() const { return start + seconds; }
  bool operator==(const Window& other) const {
    return start == other.start && seconds == other.seconds;
  }
};

// The window of `seconds` that holds `now`.
inline Window windowAt(Second now, Second seconds) {
  const Second offset = ((now % seconds) + seconds) % seconds;
  return Window(now - offset, seconds);
}

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
