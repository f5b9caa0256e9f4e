#pragma once

#include "clock.h"

namespace access_limiter::testing {

// A clock the test sets by hand.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Second start) : now_(start) {}
  Second now() const override { return now_; }
  void set(Second now) { now_ = now; }

 private:
  Second now_;
};

}  // namespace access_limiter::testing
