#include "config.h"

#include <unistd.h>

#include <cstddef>

#include "bounds.h"
#include "clock.h"

namespace access_limiter {

namespace {

// `value` for a message: printable ASCII as it is (but \ and "), any
// other byte as \xHH, cut after kMaxShownValueBytes bytes of the value.
std::string shownValue(const char* value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string shown;
  std::size_t length = 0;
  for (; value[length] != '\0'; ++length) {
    if (length >= kMaxShownValueBytes) continue;
    const auto byte = static_cast<unsigned char>(value[length]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\' && byte != '"') {
      shown.push_back(static_cast<char>(byte));
    } else {
      shown += "\\x";
      shown.push_back(kHex[byte >> 4]);
      shown.push_back(kHex[byte & 0xf]);
    }
  }
  if (length > kMaxShownValueBytes) shown += "...(" + std::to_string(length) + " bytes)";
  return shown;
}

// What reject() puts between the value and the rule.
constexpr char kRuleSeparator[] = "\": ";

[[noreturn]] void reject(const char* name, const char* value, const std::string& rule) {
  throw ConfigError(std::string(name) + "=\"" + shownValue(value) + kRuleSeparator + rule);
}

// A plain N, or a list of N/W (limit_list.h) into `config.limit_list`.
void parseLimitSetting(Config& config, const char* name, const char* value) {
  if (std::string_view(value).find('/') != std::string_view::npos) {
    std::string problem;
    std::optional<LimitList> limits = parseLimitList(value, problem);
    if (!limits)
      reject(name, value,
             "must be N or a list of N/W such as 10/1s,1000/1h,20000/1d: " + problem);
    config.limit_list = std::move(*limits);
    return;
  }
  config.limit_list.clear();
  const std::optional<int> limit = parseLimit(value);
  if (!limit)
    reject(name, value,
           "must be a whole number from 1 to " + std::to_string(kMaxLimit) +
               (value[0] == '0' && value[1] != '\0' ? ", without leading zeros" : "") +
               ", or a list of N/W such as 10/1s,1000/1h,20000/1d");
  config.limit = *limit;
}

// A path the store and the mail integration can use as given: absolute, at
// most kMaxPathBytes, each component at most NAME_MAX bytes (a longer one
// fails every system call with ENAMETOOLONG), and no control characters
// (a newline would split log lines and the --check-config output).
constexpr std::size_t kMaxPathBytes = 1024;
constexpr std::size_t kMaxComponentBytes = 255;

std::string parseAbsolutePath(const char* name, const char* value) {
  std::string path(value);
  const std::string rule = "must be an absolute path of at most " + std::to_string(kMaxPathBytes) +
                           " bytes, each component at most " +
                           std::to_string(kMaxComponentBytes) + ", no control characters";
  if (path.empty() || path.front() != '/' || path.size() > kMaxPathBytes) reject(name, value, rule);
  std::size_t component = 0;
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) reject(name, value, rule);
    component = c == '/' ? 0 : component + 1;
    if (component > kMaxComponentBytes) reject(name, value, rule);
  }
  return path;
}

const char kKeySourceRule[] =
    "must be a parameter name (NAME or param:NAME), header:NAME or remote-addr; "
    "a name is 1 to 64 characters of A-Z a-z 0-9 _ - . (a header's: without _ or ., "
    "which Apache drops)";

bool isNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

KeySource parseKeySource(const char* name, const char* value) {
  const std::string text(value);
  KeySource source;
  std::string source_name = text;
  if (text == "remote-addr") {
    source.kind = KeySource::Kind::kRemoteAddress;
    source.name.clear();
    return source;
  }
  if (text.rfind("header:", 0) == 0) {
    source.kind = KeySource::Kind::kHeader;
    source_name = text.substr(7);
  } else if (text.rfind("param:", 0) == 0) {
    source_name = text.substr(6);
  }
  bool ok = !source_name.empty() && source_name.size() <= 64;
  for (char c : source_name) ok = ok && isNameChar(c);
  // Apache drops request headers whose names contain '_' (or '.') rather
  // than pass them to CGI programs, so such a header would never arrive.
  if (source.kind == KeySource::Kind::kHeader)
    ok = ok && source_name.find_first_of("_.") == std::string::npos;
  if (!ok) reject(name, value, kKeySourceRule);
  source.name = source_name;
  return source;
}

// Seconds with up to three decimals, as milliseconds: "1", "0.25", "2.5".
constexpr int kMinStoreTimeoutMs = 100;
constexpr int kMaxStoreTimeoutMs = 60000;

int parseStoreTimeout(const char* name, const char* value) {
  const std::string rule = "must be 0 (no bound, for a local store) or seconds from " +
                           describeSeconds(kMinStoreTimeoutMs) + " to " +
                           describeSeconds(kMaxStoreTimeoutMs) +
                           ", with at most three decimals (e.g. 1 or 0.5)";
  const std::string text(value);
  const std::size_t dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
  const bool digits_only = whole.find_first_not_of("0123456789") == std::string::npos &&
                           fraction.find_first_not_of("0123456789") == std::string::npos;
  if (!digits_only || whole.empty() || whole.size() > 2 || fraction.size() > 3 ||
      (dot != std::string::npos && fraction.empty()))
    reject(name, value, rule);
  const int ms = std::stoi(whole) * 1000 + (fraction.empty() ? 0 : std::stoi((fraction + "00").substr(0, 3)));
  if ((ms != 0 && ms < kMinStoreTimeoutMs) || ms > kMaxStoreTimeoutMs) reject(name, value, rule);
  return ms;
}

int parseWindow(const char* name, const char* value) {
  const std::string text(value);
  if (text.empty() || text.size() > 5 || text.front() == '0' ||
      text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(text) > kMaxWindowSeconds)
    reject(name, value,
           "must be whole seconds from 1 to " + std::to_string(kMaxWindowSeconds) +
               " (60: per minute, 3600: per hour)");
  return std::stoi(text);
}

constexpr int kMaxMailIntervalSeconds = 86400;

int parseMailInterval(const char* name, const char* value) {
  const std::string text(value);
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(text) > kMaxMailIntervalSeconds)
    reject(name, value,
           "must be whole seconds from 0 (mail every error) to " +
               std::to_string(kMaxMailIntervalSeconds));
  return std::stoi(text);
}

bool parseSwitch(const char* name, const char* value) {
  std::string text(value);
  if (text == "0") return false;
  if (text == "1") return true;
  reject(name, value, "must be 0 or 1");
}

// The address is handed to the mail program as an argument: refuse anything
// that could be read as an option or split into several arguments.
std::string parseMailAddress(const char* name, const char* value) {
  std::string address(value);
  if (address.empty()) return address;
  bool ok = address.front() != '-' && address.find('@') != std::string::npos &&
            address.size() <= 254;
  for (char c : address)
    ok = ok && c > ' ' && c < 127 && c != '<' && c != '>' && c != '"' &&
         c != '\'' && c != '\\' && c != ',' && c != ';';
  if (!ok) reject(name, value, "must be one plain e-mail address, or empty for none");
  return address;
}

}  // namespace

std::string envString(const EnvLookup& env, const char* name) {
  const char* value = env(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string describeSeconds(int milliseconds) {
  std::string text = std::to_string(milliseconds / 1000);
  if (milliseconds % 1000 != 0) {
    std::string fraction = std::to_string(1000 + milliseconds % 1000).substr(1);
    while (fraction.back() == '0') fraction.pop_back();
    text += "." + fraction;
  }
  return text;
}

std::string storeTimeoutCause(const Config& config) {
  return "the store did not answer within " + describeSeconds(config.store_timeout_ms) +
         " s (ACCESS_STORE_TIMEOUT) under " + config.root;
}

std::string describeKeySource(const KeySource& source) {
  switch (source.kind) {
    case KeySource::Kind::kHeader: return "header:" + source.name;
    case KeySource::Kind::kRemoteAddress: return "remote-addr";
    case KeySource::Kind::kParameter: break;
  }
  return source.name;
}

std::string defaultNodeCache() {
  return "/dev/shm/access-limiter-cache." + std::to_string(geteuid());
}


namespace {

std::string onOff(bool on) { return on ? "1" : "0"; }

// The table. Each entry: name, the default as shown, how Apache passes it,
// --help's lines, the parser, the description --check-config prints, and
// whether a request may set it.
std::vector<SettingSpec> makeSettingSpecs() {
  using K = ApachePassing;
  return {
      {"ACCESS_LIMIT", "10", K::kAlways,
       [] {
         return "requests per key per window (1-" + std::to_string(kMaxLimit) +
                "; default 10), or a\nlist of N/W limits, all enforced, e.g. 10/1s,1000/1h,20000/1d\n"
                "(W in seconds or with s, m, h, d; ACCESS_WINDOW is then unused)";
       },
       [](Config& c, const char* n, const char* v) { parseLimitSetting(c, n, v); },
       [](const Config& c) {
         return c.limit_list.empty() ? std::to_string(c.limit) : formatLimitList(c.limit_list);
       },
       true},
      {"ACCESS_ROOT", "/tmp/access", K::kAlways,
       [] {
         return std::string(
             "store directory, shared by all web nodes (default /tmp/access;\n"
             "it must exist: requests never create it)");
       },
       [](Config& c, const char* n, const char* v) {
         c.root = parseAbsolutePath(n, v);
         // --gc removes empty directories with key names below the root.
         if (c.root.find_first_not_of('/') == std::string::npos)
           reject(n, v, "must be a directory of its own, not /");
       },
       [](const Config& c) { return c.root; }},
      {"ACCESS_WINDOW", "1", K::kAlways,
       [] {
         return "the window in seconds, aligned on the epoch (1-" +
                std::to_string(kMaxWindowSeconds) + "; default 1;\n60 = per minute)";
       },
       [](Config& c, const char* n, const char* v) { c.window_seconds = parseWindow(n, v); },
       [](const Config& c) { return std::to_string(c.window_seconds); },
       true},
      {"ACCESS_KEY", "app_id", K::kAlways,
       [] {
         return std::string(
             "where the key comes from (default app_id):\n"
             "  NAME or param:NAME  a query or form parameter\n"
             "  header:NAME         a request header, e.g. header:X-Api-Key\n"
             "  remote-addr         the client's address");
       },
       [](Config& c, const char* n, const char* v) {
         const std::optional<KeySecret> secret = c.key.secret;
         c.key = parseKeySource(n, v);
         c.key.secret = secret;
       },
       [](const Config& c) { return describeKeySource(c.key); },
       true},
      {"ACCESS_KNOWN_KEYS_ONLY", "0", K::kAlways,
       [] {
         return std::string(
             "1 = a key not registered with --key add gets 401\nand writes nothing (default 0)");
       },
       [](Config& c, const char* n, const char* v) { c.known_keys_only = parseSwitch(n, v); },
       [](const Config& c) { return onOff(c.known_keys_only); },
       true},
      {"ACCESS_DRY_RUN", "0", K::kAlways,
       [] {
         return std::string(
             "1 = count as usual but admit everything; the header\n"
             "Access-Limiter-Dry-Run gives the status enforcing would\n"
             "have answered (default 0)");
       },
       [](Config& c, const char* n, const char* v) { c.dry_run = parseSwitch(n, v); },
       [](const Config& c) { return onOff(c.dry_run); },
       true},
      {"ACCESS_FAIL_OPEN", "0", K::kAlways,
       [] { return std::string("1 = admit when the store fails (default 0: answer 503)"); },
       [](Config& c, const char* n, const char* v) { c.fail_open = parseSwitch(n, v); },
       [](const Config& c) { return onOff(c.fail_open); }},
      {"ACCESS_STORE_TIMEOUT", "1", K::kWhenDefined,
       [] {
         return "seconds a request waits on the store before that\nfailure answer (" +
                describeSeconds(kMinStoreTimeoutMs) + "-" + describeSeconds(kMaxStoreTimeoutMs) +
                ", decimals allowed; default 1;\n"
                "0 = no bound, saving a thread per request on a local disk)";
       },
       [](Config& c, const char* n, const char* v) { c.store_timeout_ms = parseStoreTimeout(n, v); },
       [](const Config& c) { return describeSeconds(c.store_timeout_ms); }},
      {"ACCESS_NODE_CACHE", "/dev/shm/access-limiter-cache.UID", K::kWhenDefined,
       [] {
         return std::string(
             "file in which this node's processes share what they know\n"
             "of current windows (default /dev/shm/access-limiter-cache.UID;\n"
             "off = ask the store every time)");
       },
       [](Config& c, const char* n, const char* v) {
         c.node_cache = std::string(v) == "off" ? "" : parseAbsolutePath(n, v);
       },
       [](const Config& c) { return c.node_cache.empty() ? std::string("off") : c.node_cache; }},
      {"ACCESS_METRICS", "1", K::kWhenDefined,
       [] {
         return std::string(
             "1 = count every decision in the node cache's file, for\n"
             "access-health?metrics and --metrics (default 1; 0 = count\n"
             "nothing; ACCESS_NODE_CACHE=off counts nothing either)");
       },
       [](Config& c, const char* n, const char* v) { c.metrics = parseSwitch(n, v); },
       [](const Config& c) { return onOff(c.metrics); }},
      {"ACCESS_ERROR_MAIL", "", K::kWhenDefined,
       [] { return std::string("mail server errors to this address (default: off)"); },
       [](Config& c, const char* n, const char* v) { c.error_mail = parseMailAddress(n, v); },
       [](const Config& c) { return c.error_mail; }},
      {"ACCESS_MAIL_COMMAND", "/usr/sbin/sendmail", K::kWhenDefined,
       [] { return std::string("sendmail-compatible program (default /usr/sbin/sendmail)"); },
       [](Config& c, const char* n, const char* v) { c.mail_command = parseAbsolutePath(n, v); },
       [](const Config& c) { return c.mail_command; }},
      {"ACCESS_MAIL_INTERVAL", "600", K::kWhenDefined,
       [] {
         return std::string(
             "at most one mail per cause per this many seconds\n"
             "(default 600; 0 = every error; the log gets every line)");
       },
       [](Config& c, const char* n, const char* v) {
         c.mail_interval_seconds = parseMailInterval(n, v);
       },
       [](const Config& c) { return std::to_string(c.mail_interval_seconds); }},
      {"ACCESS_APP_ROOT", "", K::kLocationOnly,
       [] { return std::string("guarding: only scripts under this directory run (required;\nno default)"); },
       [](Config& c, const char* n, const char* v) {
         c.app_root = parseAbsolutePath(n, v);
         if (c.app_root.find_first_not_of('/') == std::string::npos)
           reject(n, v, "must be the application's own directory, not /");
       },
       [](const Config& c) { return c.app_root; }},
      {"ACCESS_APP_INTERPRETER", "", K::kLocationOnly,
       [] {
         return std::string(
             "guarding: the program that runs a script, e.g.\n"
             "/usr/bin/php-cgi (default: the script runs itself)");
       },
       [](Config& c, const char* n, const char* v) { c.app_interpreter = parseAbsolutePath(n, v); },
       [](const Config& c) { return c.app_interpreter; }},
      {"ACCESS_KEY_SECRET", "", K::kWhenDefined,
       [] {
         return std::string(
             "32 hex digits, the same on every node: header keys are\n"
             "hashed under it (--check-config shows a fingerprint;\n"
             "default: unset)");
       },
       [](Config& c, const char*, const char* v) {
         c.key.secret = parseKeySecret(v);
         // The value is a secret: never repeated in a message.
         if (!c.key.secret)
           throw ConfigError("ACCESS_KEY_SECRET: must be " + std::to_string(kKeySecretHexDigits) +
                             " hex digits (128 bits), such as the output of: "
                             "od -An -tx1 -N16 /dev/urandom | tr -d ' \\n'");
       },
       [](const Config& c) {
         return c.key.secret ? "set (fingerprint " + secretFingerprint(*c.key.secret) + ")"
                             : std::string("unset");
       }},
  };
}

}  // namespace

const std::vector<SettingSpec>& settingSpecs() {
  static const std::vector<SettingSpec> specs = makeSettingSpecs();
  return specs;
}

Config loadConfig(const EnvLookup& env) {
  Config config;
  for (const SettingSpec& spec : settingSpecs())
    if (const char* value = env(spec.name)) spec.load(config, spec.name, value);
  return config;
}

Config withLocationSettings(const Config& server, const EnvLookup& params) {
  Config config = server;
  for (const SettingSpec& spec : settingSpecs()) {
    if (!spec.request_may_set) continue;
    const char* value = params(spec.name);
    if (value == nullptr) continue;
    try {
      spec.load(config, spec.name, value);
    } catch (const ConfigError& e) {
      const std::string detail = e.what();
      const std::size_t rule_at = detail.find(kRuleSeparator);
      const std::string rule =
          rule_at == std::string::npos ? "not valid" : detail.substr(rule_at + sizeof kRuleSeparator - 1);
      throw RequestSettingError(
          std::string(spec.name) + " in a request's parameters (a location's SetEnvIf, or a " +
              "local client of the authorizer) " + rule,
          "a request's parameters: " + detail);
    }
  }
  return config;
}

std::string describeConfig(const Config& config) {
  std::string lines;
  for (const SettingSpec& spec : settingSpecs())
    lines += std::string(spec.name) + "=" + spec.describe(config) + "\n";
  return lines;
}

std::string describeRequestSettings() {
  std::vector<std::string> names;
  for (const SettingSpec& spec : settingSpecs())
    if (spec.request_may_set) names.emplace_back(spec.name);
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i)
    text += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  return text;
}

std::string describeSettingsForHelp() {
  // Descriptions start in this column; a longer name puts its first line two
  // spaces after it.
  constexpr std::size_t kDescriptionColumn = 23;
  std::string text;
  for (const SettingSpec& spec : settingSpecs()) {
    std::string line = std::string("  ") + spec.name;
    line += line.size() + 1 <= kDescriptionColumn
                ? std::string(kDescriptionColumn - line.size(), ' ')
                : std::string(2, ' ');
    const std::string help = spec.help();
    std::size_t start = 0;
    for (;;) {
      const std::size_t end = help.find('\n', start);
      text += line + help.substr(start, end - start) + "\n";
      if (end == std::string::npos) break;
      start = end + 1;
      line = std::string(kDescriptionColumn, ' ');
    }
  }
  return text;
}

}  // namespace access_limiter
