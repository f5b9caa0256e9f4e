#pragma once

#include <string>

namespace access_limiter {

// What an operator command (--gc, --key, --status) prints and how it exits.
struct CommandResult {
  int exit_status = 0;
  std::string out;  // for stdout
  std::string err;  // for stderr, one "PROGRAM: ..." line per problem
};

}  // namespace access_limiter
