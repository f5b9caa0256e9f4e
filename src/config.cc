#include "config.h"

#include <cstddef>

#include "limiter.h"

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

std::string parseParamName(const char* name, const char* value) {
  std::string param(value);
  bool ok = !param.empty() && param.size() <= 64;
  for (char c : param)
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.');
  if (!ok) reject(name, value, "must be 1 to 64 characters of A-Z a-z 0-9 _ - .");
  return param;
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

Config loadConfig(const EnvLookup& env) {
  Config config;
  if (const char* v = env("ACCESS_LIMIT")) config.limit = parseLimit("ACCESS_LIMIT", v);
  if (const char* v = env("ACCESS_ROOT")) config.root = parseAbsolutePath("ACCESS_ROOT", v);
  if (const char* v = env("ACCESS_KEY")) config.key_param = parseParamName("ACCESS_KEY", v);
  if (const char* v = env("ACCESS_FAIL_OPEN")) config.fail_open = parseSwitch("ACCESS_FAIL_OPEN", v);
  if (const char* v = env("ACCESS_ERROR_MAIL")) config.error_mail = parseMailAddress("ACCESS_ERROR_MAIL", v);
  if (const char* v = env("ACCESS_MAIL_COMMAND"))
    config.mail_command = parseAbsolutePath("ACCESS_MAIL_COMMAND", v);
  return config;
}

std::string describeConfig(const Config& config) {
  return "ACCESS_LIMIT=" + std::to_string(config.limit) + "\n" +
         "ACCESS_ROOT=" + config.root + "\n" +
         "ACCESS_KEY=" + config.key_param + "\n" +
         "ACCESS_FAIL_OPEN=" + (config.fail_open ? "1" : "0") + "\n" +
         "ACCESS_ERROR_MAIL=" + config.error_mail + "\n" +
         "ACCESS_MAIL_COMMAND=" + config.mail_command + "\n";
}

}  // namespace access_limiter
