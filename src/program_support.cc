#include "program_support.h"

#include <cstdio>
#include <cstdlib>

#include "cgi_adapter.h"
#include "fatal_handlers.h"
#include "logging.h"

#ifndef ACCESS_LIMITER_VERSION
#define ACCESS_LIMITER_VERSION "unknown"
#endif

namespace access_limiter {

const EnvLookup& processEnv() {
  static const EnvLookup env = [](const char* name) -> const char* { return std::getenv(name); };
  return env;
}

Command commandOf(int argc, char** argv, bool operator_commands) {
  if (runByWebServer(processEnv())) return Command::kServe;
  return parseCommand(argc, argv, operator_commands);
}

int answerInformationalCommand(Command command, const char* program, const std::string& help) {
  switch (command) {
    case Command::kHelp:
      std::fputs(help.c_str(), stdout);
      return 0;
    case Command::kVersion:
      std::printf("%s %s\n", program, ACCESS_LIMITER_VERSION);
      return 0;
    default:
      std::fprintf(stderr, "%s: unknown arguments; see %s --help\n", program, program);
      return 2;
  }
}

void prepareCgiRun(const char* program) {
  setProgramName(program);
  installFatalHandlers(renderCgi(messageResponse(500), isHeadRequest(processEnv())));
}

}  // namespace access_limiter
