#pragma once

#include "config.h"

namespace access_limiter {

// What a program's command line asks for.
enum class Command {
  kServe,        // answer the request: the CGI run
  kHelp,         // --help
  kVersion,      // --version
  kCheckConfig,  // --check-config (access-limiter only)
  kCollect,      // --gc (access-limiter only)
  kStatus,       // --status [KEY] (access-limiter only)
  kMetrics,      // --metrics (access-limiter only)
  kKeys,         // --key ACTION ... (access-limiter only; key_command.h parses the rest)
  kUnknown,      // anything else: exit 2 with a pointer to --help
};

// True when a web server runs the program: GATEWAY_INTERFACE is set (RFC
// 3875 4.1.4; Apache always sets it). Such a run answers the request and
// never reads its arguments as commands: for a query without "=" the server
// passes the query's words as arguments (RFC 3875 4.4), so "?--gc" from any
// client would otherwise run an operator command.
bool runByWebServer(const EnvLookup& env);

// The command of a run from a shell. No arguments: serve (a request from
// the command line, QUERY_STRING and the rest from the environment).
// `operator_commands`: whether --check-config, --gc, --status and --key exist.
Command parseCommand(int argc, const char* const* argv, bool operator_commands);

}  // namespace access_limiter
