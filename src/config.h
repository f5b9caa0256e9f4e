#pragma once

#include <functional>
#include <stdexcept>
#include <string>

namespace access_limiter {

// Looks up one environment variable; nullptr when unset.
using EnvLookup = std::function<const char*(const char*)>;

// The effective settings of one run. Each ACCESS_* variable, when unset,
// takes the default shown here (the seed samples' values); when set, it must
// be valid or loading fails: a bad value is never replaced by a default.
struct Config {
  int limit = 10;                      // ACCESS_LIMIT: admissions per key per second
  std::string root = "/tmp/access";    // ACCESS_ROOT: the store's directory
  std::string key_param = "app_id";    // ACCESS_KEY: the request parameter naming the key
  bool fail_open = false;              // ACCESS_FAIL_OPEN=1: admit when the store fails
  std::string error_mail;              // ACCESS_ERROR_MAIL: notify this address of 5xx; empty = off
  std::string mail_command = "/usr/sbin/sendmail";  // ACCESS_MAIL_COMMAND: sendmail-compatible program
};

// A bad ACCESS_* setting: the operator's mistake, never the client's. The
// message names the variable, its value and the rule it breaks.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws ConfigError naming the variable, its value and the rule it breaks.
Config loadConfig(const EnvLookup& env);

// One "NAME=value" line per setting, for --check-config.
std::string describeConfig(const Config& config);

}  // namespace access_limiter
