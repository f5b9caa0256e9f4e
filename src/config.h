#pragma once

#include <functional>
#include <stdexcept>
#include <optional>
#include <string>
#include <vector>

#include "key.h"
#include "limit_list.h"

namespace access_limiter {

// Looks up one environment variable; nullptr when unset.
using EnvLookup = std::function<const char*(const char*)>;

// The variable's value, "" when unset.
std::string envString(const EnvLookup& env, const char* name);

// Where a request's key comes from (ACCESS_KEY):
//   NAME or param:NAME   a query parameter, or a form-encoded POST body's
//   header:NAME          a request header (Apache passes X-Api-Key as HTTP_X_API_KEY)
//   remote-addr          the client's address (REMOTE_ADDR; LVS-DR keeps it)
struct KeySource {
  enum class Kind { kParameter, kHeader, kRemoteAddress };
  Kind kind = Kind::kParameter;
  std::string name = "app_id";  // the parameter's or the header's name
  // ACCESS_KEY_SECRET: a header's value is stored as its hash under this
  // (key.h hashedKey); none set, under the all-zero key.
  std::optional<KeySecret> secret;
};

// Milliseconds as seconds, as --check-config prints them: 1500 -> "1.5".
std::string describeSeconds(int milliseconds);

// ACCESS_KEY's value for a source, as --check-config prints it.
std::string describeKeySource(const KeySource& source);

// ACCESS_NODE_CACHE's default: a file on /dev/shm, one per user, since the
// file's owner is trusted with what it says.
std::string defaultNodeCache();

// The effective settings of one run. Each ACCESS_* variable, when unset,
// takes the default shown here (the seed samples' values); when set, it must
// be valid or loading fails: a bad value is never replaced by a default.
struct Config {
  int limit = 10;                      // ACCESS_LIMIT: admissions per key per window
  // ACCESS_LIMIT as a list of limits ("10/1s,1000/1h"), which replaces
  // `limit` and ACCESS_WINDOW; empty when ACCESS_LIMIT is a plain N.
  LimitList limit_list;
  int window_seconds = 1;              // ACCESS_WINDOW: the window's length, 1 to kMaxWindowSeconds
  std::string root = "/tmp/access";    // ACCESS_ROOT: the store's directory
  KeySource key;                       // ACCESS_KEY: where the key comes from
  bool known_keys_only = false;        // ACCESS_KNOWN_KEYS_ONLY=1: a key without a policy gets 401
  bool dry_run = false;                // ACCESS_DRY_RUN=1: count, but admit what would be refused
  bool fail_open = false;              // ACCESS_FAIL_OPEN=1: admit when the store fails
  // ACCESS_STORE_TIMEOUT, in seconds (decimals allowed): how long a request
  // waits on the store before it answers 503 (or admits, failing open).
  // 0: no bound and no watchdog thread (for a store on a local disk).
  int store_timeout_ms = 1000;
  // ACCESS_NODE_CACHE: the file this node's processes share what they learnt
  // about current windows in (node_cache.h); "off" (empty here) for none.
  std::string node_cache = defaultNodeCache();
  // ACCESS_METRICS=1: count decisions in the node cache's file (metrics.h).
  bool metrics = true;
  std::string error_mail;              // ACCESS_ERROR_MAIL: notify this address of 5xx; empty = off
  std::string mail_command = "/usr/sbin/sendmail";  // ACCESS_MAIL_COMMAND: sendmail-compatible program
  int mail_interval_seconds = 600;     // ACCESS_MAIL_INTERVAL: one mail per cause per this; 0 = every one
  // Guarding an application (the program as Apache's Action handler):
  std::string app_root;         // ACCESS_APP_ROOT: only scripts under it run; empty = unset
  std::string app_interpreter;  // ACCESS_APP_INTERPRETER: runs the script (php-cgi); empty = the script itself
};

// A bad ACCESS_* setting: the operator's mistake, never the client's. The
// message names the variable, its value and the rule it breaks. The value is
// shown with bytes outside printable ASCII as \xHH, and cut after
// kMaxShownValueBytes: it goes to the log and to mail.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
inline constexpr std::size_t kMaxShownValueBytes = 64;

// A setting a request's parameters carry (withLocationSettings) that is not
// valid. On loopback any local user can send one, so what() names the
// setting and its rule but not the value: each report is then one cause,
// mailed once per ACCESS_MAIL_INTERVAL, not one per value sent. detail()
// has the value too, for the log.
class RequestSettingError : public ConfigError {
 public:
  RequestSettingError(const std::string& message, std::string detail)
      : ConfigError(message), detail_(std::move(detail)) {}
  const std::string& detail() const { return detail_; }

 private:
  std::string detail_;
};

// Throws ConfigError naming the variable, its value and the rule it breaks.
Config loadConfig(const EnvLookup& env);

// The cause a request reports when its store did not answer in time, the
// same from every front door: "the store did not answer within 1 s
// (ACCESS_STORE_TIMEOUT) under ROOT".
std::string storeTimeoutCause(const Config& config);

// The settings of one authorizer request: `server`'s, with the
// request_may_set ones its `params` carry. Throws RequestSettingError for
// one that is not valid.
Config withLocationSettings(const Config& server, const EnvLookup& params);

// One "NAME=value" line per setting, for --check-config.
std::string describeConfig(const Config& config);

// How apache/access-limiter.conf hands a setting to the programs.
enum class ApachePassing {
  kAlways,       // Defined with the programs' default unless settings.conf defines it
  kWhenDefined,  // passed only when settings.conf defines it
  kLocationOnly, // never global: a guarded location's own SetEnv
};

// One setting: the only place its name, default, rule and help are written.
// loadConfig, describeConfig and --help walk this table; a unit test holds
// docs/configuration.md, packaging/settings.conf and the Apache drop-in to it.
struct SettingSpec {
  const char* name;
  // The value --check-config shows when the setting is unset, as the docs
  // show it: "" for none (unset or empty); ".UID" stands for the user's uid.
  const char* shown_default;
  ApachePassing apache;
  // --help's description, lines separated by '\n'; ends with its range and default.
  std::string (*help)();
  // Parses `value` into `config`; throws ConfigError naming `name` and the rule.
  void (*load)(Config& config, const char* name, const char* value);
  std::string (*describe)(const Config& config);
  // A per-location setting that a persistent front door (the FastCGI
  // authorizer) takes from each request's parameters, as a location's
  // SetEnv sets it for the CGI. Only these: any local user can connect to
  // the authorizer, so nothing that names a path or a program, or weakens
  // what the server decided (fail-open), may come from a request.
  bool request_may_set = false;
};

// Every setting, in --check-config's order.
const std::vector<SettingSpec>& settingSpecs();

// The names of the request_may_set settings: "A, B, C and D".
std::string describeRequestSettings();

// The settings part of --help: "  ACCESS_NAME  description" per setting.
std::string describeSettingsForHelp();

}  // namespace access_limiter
