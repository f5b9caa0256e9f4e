#pragma once

#include <optional>

#include "authorizer.h"

namespace access_limiter {

// access-limiter as a persistent FastCGI authorizer (authorizer.h):
//   [--settings FILE] --fastcgi [ADDRESS] [--workers N]
// serves ADDRESS (listen_socket.h), or, without one, the listening socket it
// was started with (systemd's, or descriptor 0); and a run with no
// arguments whose descriptor 0 is a listening socket (mod_fcgid,
// spawn-fcgi) serves that with one worker. Runs in the foreground until
// SIGTERM and returns the exit status: 0 after a stop, 1 when the settings
// or the socket cannot be used, 2 for a bad command line. nullopt, having
// done nothing, for any other run.
std::optional<int> runAuthorizerCommandLine(int argc, char** argv, const AuthorizerSeams& seams);

}  // namespace access_limiter
