#pragma once

#include <functional>
#include <string>

#include "clock.h"

namespace access_limiter {

// What a test main may replace in the access-limiter program; the shipped
// main (cgi-bin/access-limiter.cc) passes the real clock and no hook.
struct LimiterSeams {
  const Clock& clock;                   // "now" for decisions and --gc
  // Called once per request, with its key, once that is known.
  std::function<void(const std::string& key)> after_key_read;
};

// The access-limiter program: a CGI run, or one of its operator commands
// (--help, --version, --check-config, --gc) when run from a shell.
int runLimiter(int argc, char** argv, const LimiterSeams& seams);

// The access-health program: a CGI that proves ACCESS_ROOT is writable.
// Never rate-limited; meant for the load balancer's health checks.
int runHealth(int argc, char** argv);

}  // namespace access_limiter
