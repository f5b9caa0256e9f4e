#include "config.h"

#include <unistd.h>

#include <cstddef>

#include "bounds.h"
#include "clock.h"

namespace access_limiter {

namespace {

[[noreturn]] void reject(const char* name, const char* value, const std::string& rule) {
  throw ConfigError(std::string(name) + "=\"" + value + "\": " + rule);
}

int parseLimit(const char* name, const char* value) {
  const std::string rule =
      "must be a whole number from 1 to " + std::to_string(kMaxLimit);
  std::string text(value);
  if (text.empty() || text.size() > 6) reject(name, value, rule);
  int number = 0;
  for (char c : text) {
    if (c < '0' || c > '9') reject(name, value, rule);
    number = number * 10 + (c - '0');
  }
  if (number < 1 || number > kMaxLimit) reject(name, value, rule);
  return number;
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
    "a name is 1 to 64 characters of A-Z a-z 0-9 _ - .";

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

Config loadConfig(const EnvLookup& env) {
  Config config;
  if (const char* v = env("ACCESS_LIMIT")) config.limit = parseLimit("ACCESS_LIMIT", v);
  if (const char* v = env("ACCESS_ROOT")) {
    config.root = parseAbsolutePath("ACCESS_ROOT", v);
    // --gc removes empty directories with key names below the root.
    if (config.root.find_first_not_of('/') == std::string::npos)
      reject("ACCESS_ROOT", v, "must be a directory of its own, not /");
  }
  if (const char* v = env("ACCESS_KEY")) config.key = parseKeySource("ACCESS_KEY", v);
  if (const char* v = env("ACCESS_KEY_SECRET")) {
    config.key.secret = parseKeySecret(v);
    // The value is a secret: never repeated in a message.
    if (!config.key.secret)
      throw ConfigError("ACCESS_KEY_SECRET: must be " + std::to_string(kKeySecretHexDigits) +
                        " hex digits (128 bits), such as the output of: "
                        "od -An -tx1 -N16 /dev/urandom | tr -d ' \\n'");
  }
  if (const char* v = env("ACCESS_WINDOW")) config.window_seconds = parseWindow("ACCESS_WINDOW", v);
  if (const char* v = env("ACCESS_KNOWN_KEYS_ONLY"))
    config.known_keys_only = parseSwitch("ACCESS_KNOWN_KEYS_ONLY", v);
  if (const char* v = env("ACCESS_DRY_RUN")) config.dry_run = parseSwitch("ACCESS_DRY_RUN", v);
  if (const char* v = env("ACCESS_FAIL_OPEN")) config.fail_open = parseSwitch("ACCESS_FAIL_OPEN", v);
  if (const char* v = env("ACCESS_STORE_TIMEOUT"))
    config.store_timeout_ms = parseStoreTimeout("ACCESS_STORE_TIMEOUT", v);
  if (const char* v = env("ACCESS_ERROR_MAIL")) config.error_mail = parseMailAddress("ACCESS_ERROR_MAIL", v);
  if (const char* v = env("ACCESS_MAIL_COMMAND"))
    config.mail_command = parseAbsolutePath("ACCESS_MAIL_COMMAND", v);
  if (const char* v = env("ACCESS_MAIL_INTERVAL"))
    config.mail_interval_seconds = parseMailInterval("ACCESS_MAIL_INTERVAL", v);
  if (const char* v = env("ACCESS_NODE_CACHE"))
    config.node_cache = std::string(v) == "off" ? "" : parseAbsolutePath("ACCESS_NODE_CACHE", v);
  if (const char* v = env("ACCESS_APP_ROOT")) {
    config.app_root = parseAbsolutePath("ACCESS_APP_ROOT", v);
    if (config.app_root.find_first_not_of('/') == std::string::npos)
      reject("ACCESS_APP_ROOT", v, "must be the application's own directory, not /");
  }
  if (const char* v = env("ACCESS_APP_INTERPRETER"))
    config.app_interpreter = parseAbsolutePath("ACCESS_APP_INTERPRETER", v);
  return config;
}

std::string describeConfig(const Config& config) {
  return "ACCESS_LIMIT=" + std::to_string(config.limit) + "\n" +
         "ACCESS_ROOT=" + config.root + "\n" +
         "ACCESS_WINDOW=" + std::to_string(config.window_seconds) + "\n" +
         "ACCESS_KEY=" + describeKeySource(config.key) + "\n" +
         "ACCESS_KNOWN_KEYS_ONLY=" + (config.known_keys_only ? "1" : "0") + "\n" +
         "ACCESS_DRY_RUN=" + (config.dry_run ? "1" : "0") + "\n" +
         "ACCESS_FAIL_OPEN=" + (config.fail_open ? "1" : "0") + "\n" +
         "ACCESS_STORE_TIMEOUT=" + describeSeconds(config.store_timeout_ms) + "\n" +
         "ACCESS_NODE_CACHE=" + (config.node_cache.empty() ? "off" : config.node_cache) + "\n" +
         "ACCESS_ERROR_MAIL=" + config.error_mail + "\n" +
         "ACCESS_MAIL_COMMAND=" + config.mail_command + "\n" +
         "ACCESS_MAIL_INTERVAL=" + std::to_string(config.mail_interval_seconds) + "\n" +
         "ACCESS_APP_ROOT=" + config.app_root + "\n" +
         "ACCESS_APP_INTERPRETER=" + config.app_interpreter + "\n" +
         "ACCESS_KEY_SECRET=" +
         (config.key.secret ? "set (fingerprint " + secretFingerprint(*config.key.secret) + ")"
                            : std::string("unset")) + "\n";
}

}  // namespace access_limiter
