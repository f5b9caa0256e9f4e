#include "programs.h"

int main(int argc, char** argv) {
  const access_limiter::SystemClock clock;
  return access_limiter::runLimiter(argc, argv, {clock, nullptr});
}
