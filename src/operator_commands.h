#pragma once

#include <optional>

#include "clock.h"

namespace access_limiter {

// access-limiter's commands for an operator at a shell: --check-config,
// --gc, --status [KEY] and --key, each optionally after "--settings FILE"
// (the settings Apache reads, instead of the environment). Runs the command
// the arguments name and returns its exit status (2: a bad command line,
// whatever the settings; 1: bad settings or a store the command cannot
// use), having printed what it says on stdout and stderr. nullopt, having
// done nothing, under a web server (GATEWAY_INTERFACE set) or when the
// arguments name no such command: a request, --help, --version.
std::optional<int> runOperatorCommandLine(int argc, char** argv, const Clock& clock);

}  // namespace access_limiter
