// libFuzzer harness over everything a request controls: REQUEST_METHOD,
// QUERY_STRING, CONTENT_TYPE, CONTENT_LENGTH, HTTP_COOKIE and the body,
// through request parsing (our guards, the form scanner, cgicc's decoding),
// key validation and the error answer.
//
// Input: the six fields separated by '\n' (a missing field is unset; the
// body takes the rest, newlines included). The input's length picks the mode
// (endpoint or guarding an application) and the key's source (parameter,
// header, client address; the last two take QUERY_STRING's text as their
// value). Properties checked:
//   - a request either yields a key or raises an HttpError, nothing else;
//   - a yielded key is valid, so it is one path component inside ACCESS_ROOT;
//   - a key from a header is only ever its hash;
//   - a refusal is a 4xx (405, 411-415 or 400/401), never a 5xx or a crash;
//   - its rendered answer is a CGI response whose body is valid JSON;
//   - guarding, every body byte read is kept for the application.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include <rapidjson/document.h>

#include "cgi_adapter.h"
#include "http_status.h"
#include "key.h"

using namespace access_limiter;

namespace {

[[noreturn]] void violated(const char* property) {
  __builtin_printf("property violated: %s\n", property);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kFields[] = {"REQUEST_METHOD", "QUERY_STRING", "CONTENT_TYPE",
                                        "CONTENT_LENGTH", "HTTP_COOKIE"};
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> env;
  size_t at = 0;
  for (const char* field : kFields) {
    if (at > input.size()) break;
    size_t end = input.find('\n', at);
    if (end == std::string::npos) end = input.size();
    env[field] = input.substr(at, end - at);
    at = end + 1;
  }
  const std::string body = at <= input.size() ? input.substr(at) : std::string();
  const bool guarding = size % 2 == 1;
  KeySource source;
  if ((size / 2) % 3 == 1) source = KeySource{KeySource::Kind::kHeader, "X-Api-Key", std::nullopt};
  if ((size / 2) % 3 == 2) source = KeySource{KeySource::Kind::kRemoteAddress, "", std::nullopt};
  if (env.count("QUERY_STRING") != 0) env["HTTP_X_API_KEY"] = env["REMOTE_ADDR"] = env["QUERY_STRING"];
  size_t offset = 0;

  CgiInputs inputs;
  inputs.env = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    // Meta-variables cannot hold NUL: the environment would cut them there.
    return it == env.end() ? nullptr : it->second.c_str();
  };
  inputs.read_body = [&](char* buffer, size_t wanted) -> size_t {
    size_t n = std::min(wanted, body.size() - offset);
    body.copy(buffer, n, offset);
    offset += n;
    return n;
  };

  // A refusal, thrown or returned, and the answer it becomes.
  const auto checkRefusal = [&](int status, const Response& response) {
    if (status < 400 || status > 499) violated("a refused request is a 4xx");
    const std::string cgi = renderCgi(response, false);
    if (cgi.rfind("Status: " + std::to_string(status) + " ", 0) != 0)
      violated("the answer starts with its Status line");
    const size_t body_at = cgi.find("\r\n\r\n");
    if (body_at == std::string::npos) violated("headers end with a blank line");
    rapidjson::Document json;
    json.Parse(cgi.c_str() + body_at + 4);
    if (json.HasParseError() || !json.IsObject() || !json.HasMember("message"))
      violated("the body is a JSON object with a message");
  };
  try {
    const KeyOutcome outcome = requestKey(inputs, source, guarding ? FrontDoor::kGuard : FrontDoor::kEndpoint);
    if (outcome.refusal_status != 0) {
      if (outcome.refusal_status != 400 && outcome.refusal_status != 401)
        violated("a returned refusal is a 400 or a 401");
      checkRefusal(outcome.refusal_status,
                   messageResponse(outcome.refusal_status, outcome.refusal_detail));
    } else {
      const std::string& key = outcome.key;
      if (!isValidKey(key)) violated("an accepted key is valid");
      if (key.find('/') != std::string::npos || key.front() == '.')
        violated("an accepted key stays one component inside ACCESS_ROOT");
      if (source.kind == KeySource::Kind::kHeader && !isHashedKey(key))
        violated("a key from a header is only ever its hash");
    }
  } catch (const HttpError& e) {
    checkRefusal(e.status(), responseForException(std::current_exception()));
  }
  if (guarding && *inputs.body_read != inputs.body_kept->size())
    violated("guarding, every body byte read is kept for the application");
  return 0;
}
