// libFuzzer harness over the authorizer's request path: any FastCGI
// parameters a local user could send (names and values of any bytes but
// NUL, duplicates, huge values, none at all), through the per-location
// settings, key reading, the decision on a real file store and the
// answer's rendering (authorizer.h).
//
// Input: parameters separated by '\n', each NAME=VALUE (a line without '='
// is a name with an empty value); a name may repeat, and the first one
// counts, as libfcgi's FCGX_GetParam reads them. The server's settings are
// fixed: a store in a directory of this run's own, no node cache, no store
// deadline. Properties checked:
//   - the answer's status is one the contract names (200, 400, 401, 403,
//     405, 411-415, 429, 500, 503), never a crash;
//   - an admission is "Status: 200 OK" and Variable- lines only, with no
//     header that would reach the application's client;
//   - any other answer is a CGI response whose body is a JSON object with
//     a message;
//   - no parameter moves the store: nothing appears outside the server's
//     ACCESS_ROOT (the parent directory of it holds only it).

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "authorizer.h"
#include "mail_limiter.h"

using namespace access_limiter;

namespace {

[[noreturn]] void violated(const char* property) {
  __builtin_printf("property violated: %s\n", property);
  std::abort();
}

// The run's own directory: DIR/root is the store; nothing else may appear in DIR.
const std::string& runDirectory() {
  static const std::string directory = [] {
    char pattern[] = "/tmp/authorizer-fuzz.XXXXXX";
    if (mkdtemp(pattern) == nullptr) std::abort();
    const std::string root = std::string(pattern) + "/root";
    mkdir(root.c_str(), 0700);
    return std::string(pattern);
  }();
  return directory;
}

std::size_t entriesIn(const std::string& directory) {
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return 0;
  std::size_t count = 0;
  while (const dirent* entry = readdir(dir))
    if (std::string(entry->d_name) != "." && std::string(entry->d_name) != "..") ++count;
  closedir(dir);
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, std::string>> params;
  for (std::size_t at = 0; at <= input.size();) {
    std::size_t end = input.find('\n', at);
    if (end == std::string::npos) end = input.size();
    std::string line = input.substr(at, end - at);
    // A parameter cannot hold NUL: libfcgi hands them over as C strings.
    line = line.substr(0, line.find('\0'));
    const std::size_t equals = line.find('=');
    params.emplace_back(line.substr(0, equals),
                        equals == std::string::npos ? std::string() : line.substr(equals + 1));
    at = end + 1;
  }
  const EnvLookup lookup = [&params](const char* name) -> const char* {
    for (const auto& [key, value] : params)
      if (key == name) return value.c_str();
    return nullptr;
  };

  static const SystemClock clock;
  static const ErrorNotifier notifier(NotificationSettings{}, clock, defaultMailDirectories());
  Config settings;
  settings.root = runDirectory() + "/root";
  settings.node_cache.clear();
  settings.store_timeout_ms = 0;
  settings.metrics = false;
  static NoMetrics metrics;
  const AuthorizerServer server{settings, notifier, metrics, AuthorizerSeams{clock, nullptr, nullptr}};
  static RequestDeadline deadline;
  static NodeCacheMappings node_caches;
  const Response response = decideAuthorization(
      lookup, server, std::chrono::steady_clock::now(), node_caches, deadline,
      [](const Response&) { violated("no deadline is armed"); });

  switch (response.status) {
    case 200: case 400: case 401: case 403: case 405: case 411: case 412: case 413: case 414:
    case 415: case 429: case 500: case 503: break;
    default: violated("the status is one the contract names");
  }
  const std::string text = renderAuthorizerAnswer(response);
  const std::size_t blank = text.find("\r\n\r\n");
  if (blank == std::string::npos) violated("the headers end with a blank line");
  if (response.status == 200) {
    if (text.rfind("Status: 200 OK\r\n", 0) != 0) violated("an admission starts with its Status");
    for (std::size_t at = text.find("\r\n") + 2; at < blank;) {
      const std::size_t end = text.find("\r\n", at);
      if (text.compare(at, 9, "Variable-") != 0) violated("an admission has Variable- lines only");
      at = end + 2;
    }
    if (blank + 4 != text.size()) violated("an admission has no body");
  } else {
    rapidjson::Document json;
    json.Parse(text.c_str() + blank + 4);
    if (json.HasParseError() || !json.IsObject() || !json.HasMember("message"))
      violated("a refusal's body is a JSON object with a message");
  }
  if (entriesIn(runDirectory()) != 1) violated("nothing appears beside the server's ACCESS_ROOT");
  return 0;
}
