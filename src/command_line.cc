#include "command_line.h"

#include <string_view>

namespace access_limiter {

bool runByWebServer(const EnvLookup& env) { return env("GATEWAY_INTERFACE") != nullptr; }

Command parseCommand(int argc, const char* const* argv, bool operator_commands) {
  if (argc < 2) return Command::kServe;
  const std::string_view word = argv[1];
  if (operator_commands && word == "--key") return Command::kKeys;
  if (operator_commands && word == "--status" && argc <= 3) {
    const std::string_view key = argc == 3 ? argv[2] : "";
    return key == "--help" || key == "-h" ? Command::kHelp : Command::kStatus;
  }
  if (argc > 2) return Command::kUnknown;
  if (word == "--help" || word == "-h") return Command::kHelp;
  if (word == "--version") return Command::kVersion;
  if (operator_commands && word == "--check-config") return Command::kCheckConfig;
  if (operator_commands && word == "--gc") return Command::kCollect;
  if (operator_commands && word == "--metrics") return Command::kMetrics;
  return Command::kUnknown;
}

}  // namespace access_limiter
