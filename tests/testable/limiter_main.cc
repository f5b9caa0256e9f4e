// The access-limiter program with test seams, built only for the tests
// (build/tests/access-limiter-testable). The shipped main is
// cgi-bin/access-limiter.cc; this one differs only in what it passes to
// runLimiter:
//   ACCESS_TEST_NOW=SECONDS   pins the clock to that epoch second;
//   ACCESS_TEST_FAULT=NAME    makes each request fail in a chosen way once
//                             its key is read (where the store would be
//                             called next, under the store's watchdog), so
//                             tests can drive every path into the error
//                             integration; "hang-store" never returns.
//   ACCESS_TEST_FAULT_KEY=KEY only the requests of this key (as stored)
//                             fail: for a persistent authorizer, whose
//                             environment holds for every request.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "cgi_adapter.h"
#include "programs.h"

namespace {

using access_limiter::Second;

class PinnableClock final : public access_limiter::Clock {
 public:
  Second now() const override {
    if (const char* pinned = std::getenv("ACCESS_TEST_NOW")) return std::strtoll(pinned, nullptr, 10);
    return wall_.now();
  }

 private:
  access_limiter::SystemClock wall_;
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wterminate"
void __attribute__((noinline)) throwFromNoexcept() noexcept {
  throw std::runtime_error("thrown through a noexcept function");
}
#pragma GCC diagnostic pop

// Not instrumented: the faults are undefined behaviour by design, and under
// the sanitizers they must still reach the real signal handlers under test.
__attribute__((no_sanitize("address", "undefined"))) void injectFault(const std::string& key) {
  const char* fault = std::getenv("ACCESS_TEST_FAULT");
  if (fault == nullptr) return;
  if (const char* only = std::getenv("ACCESS_TEST_FAULT_KEY"); only != nullptr && key != only)
    return;
  const std::string name = fault;
  if (name == "exception") throw std::runtime_error("injected failure");
  if (name == "unknown-exception") throw 42;
  if (name == "terminate") throwFromNoexcept();
  if (name == "segv") {
    volatile int* volatile nowhere = nullptr;
    *nowhere = 1;
  }
  if (name == "fpe") {
    // Both operands volatile: GCC turns 1/x into a comparison, no division.
    volatile int numerator = 1;
    volatile int zero = 0;
    volatile int result = numerator / zero;
    (void)result;
  }
  if (name == "bus") std::raise(SIGBUS);
  // The store hangs: called where a store call would be, under the watchdog.
  if (name == "hang-store") sleep(600);
  if (name == "abort") std::abort();
  if (name == "segv-after-response") {
    access_limiter::sendResponse(access_limiter::messageResponse(200), false);
    volatile int* volatile nowhere = nullptr;
    *nowhere = 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const PinnableClock clock;
  return access_limiter::runLimiter(argc, argv, {clock, injectFault});
}
