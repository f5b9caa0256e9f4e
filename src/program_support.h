#pragma once

#include <string>

#include "command_line.h"
#include "config.h"

namespace access_limiter {

// The process's environment, as an EnvLookup.
const EnvLookup& processEnv();

// The command of this run: kServe under a web server, whatever the
// arguments; otherwise what the arguments say.
Command commandOf(int argc, char** argv, bool operator_commands);

// Answers --help, --version and unknown arguments; returns the exit status.
int answerInformationalCommand(Command command, const char* program, const std::string& help);

// Names the program in log lines and installs the fatal handlers, whose
// answer is a 500 (headers only for a HEAD request).
void prepareCgiRun(const char* program);

}  // namespace access_limiter
