#pragma once

namespace access_limiter {

// The access-limiter program: a CGI run (no arguments) or one of its
// operator commands (--help, --version, --check-config, --gc).
int runLimiter(int argc, char** argv);

// The access-health program: a CGI that proves ACCESS_ROOT is writable.
// Never rate-limited; meant for the load balancer's health checks.
int runHealth(int argc, char** argv);

}  // namespace access_limiter
