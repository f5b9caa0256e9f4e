#include "cgi_adapter.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>
#include <cgicc/CgiInput.h>
#include <cgicc/Cgicc.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "error_integration.h"
#include "http_status.h"
#include "key.h"
#include "store.h"

namespace access_limiter {

namespace {

// Feeds cgicc from meta-variables we choose and a body we already read, so
// cgicc never sees a Content-Length we have not checked.
class PreparedInput final : public cgicc::CgiInput {
 public:
  PreparedInput(std::string method, std::string query, std::string body)
      : method_(std::move(method)), query_(std::move(query)), body_(std::move(body)) {}

  size_t read(char* data, size_t length) override {
    size_t n = std::min(length, body_.size() - offset_);
    body_.copy(data, n, offset_);
    offset_ += n;
    return n;
  }

  std::string getenv(const char* name) override {
    std::string_view var(name);
    if (var == "REQUEST_METHOD") return method_;
    if (var == "QUERY_STRING") return method_ == "POST" ? std::string() : query_;
    if (var == "CONTENT_TYPE")
      return method_ == "POST" ? "application/x-www-form-urlencoded" : "";
    if (var == "CONTENT_LENGTH")
      return method_ == "POST" ? std::to_string(body_.size()) : "0";
    return std::string();
  }

 private:
  std::string method_;
  std::string query_;
  std::string body_;
  size_t offset_ = 0;
};

// Every value of parameter `name` in form-encoded `data`, decoded by cgicc.
// Only '&' separates parameters, as in PHP and most frameworks behind us;
// cgicc also splits at ';', so a ';' is handed to it encoded.
void collectValues(const std::string& method, const std::string& raw,
                   const std::string& name, std::vector<std::string>& values) {
  if (raw.empty()) return;
  std::string data;
  data.reserve(raw.size());
  for (char c : raw) data += c == ';' ? std::string("%3B") : std::string(1, c);
  PreparedInput input(method, method == "POST" ? "" : data,
                      method == "POST" ? data : "");
  cgicc::Cgicc form(&input);
  // cgicc's own lookups ignore case; a parameter name here is exact.
  for (const cgicc::FormEntry& entry : *form)
    if (entry.getName() == name) values.push_back(entry.getValue());
}

// The media type of a Content-Type value, lower-cased, without parameters.
std::string mediaType(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  size_t start = type.find_first_not_of(" \t");
  type = start == std::string::npos ? "" : type.substr(start);
  for (char& c : type)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return type;
}

// How a request body is delimited. Apache de-chunks a chunked request body
// and passes it without CONTENT_LENGTH, with HTTP_TRANSFER_ENCODING set: such
// a body is read to the end of input. Otherwise CONTENT_LENGTH counts it (at
// most 18 digits, so it cannot overflow), and no CONTENT_LENGTH means none.
struct BodyFraming {
  bool to_end_of_input = false;
  unsigned long long length = 0;  // bytes, when not to_end_of_input
};

// nullopt when CONTENT_LENGTH is set but not a whole number.
std::optional<BodyFraming> bodyFraming(const EnvLookup& env) {
  const std::string text = envString(env, "CONTENT_LENGTH");
  if (text.empty()) {
    BodyFraming framing;
    framing.to_end_of_input = !envString(env, "HTTP_TRANSFER_ENCODING").empty();
    return framing;
  }
  if (text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  BodyFraming framing;
  framing.length = std::strtoull(text.c_str(), nullptr, 10);
  return framing;
}

// Reads up to `wanted` body bytes into `body` (appending), counting them in
// inputs.body_read; stops early at the end of input.
void readBody(const CgiInputs& inputs, std::string& body, std::size_t wanted) {
  const std::size_t start = body.size();
  body.resize(start + wanted);
  std::size_t have = 0;
  while (have < wanted) {
    const std::size_t n = inputs.read_body(&body[start + have], wanted - have);
    if (n == 0) break;
    have += n;
    *inputs.body_read += n;
  }
  body.resize(start + have);
}

const char kFormType[] = "application/x-www-form-urlencoded";

const std::string& bodyTooLarge() {
  static const std::string detail =
      "the request body may be at most " + std::to_string(kMaxBodyBytes) + " bytes";
  return detail;
}

// The POST body, read and bounded by us, and kept in inputs.body_kept.
// Empty when there is none. `too_large` is the 413's detail.
std::string readPostBody(const CgiInputs& inputs, const std::string& too_large) {
  const std::optional<BodyFraming> framing = bodyFraming(inputs.env);
  if (!framing) throw HttpError(400, "Content-Length must be a whole number of bytes");
  if (!framing->to_end_of_input && framing->length == 0) return std::string();
  if (framing->length > kMaxBodyBytes) throw HttpError(413, too_large);
  const std::string type = mediaType(envString(inputs.env, "CONTENT_TYPE"));
  std::string& body = *inputs.body_kept;
  if (framing->to_end_of_input) {
    // Only reading tells whether a chunked body is empty; an empty one is
    // no body, whatever its type.
    readBody(inputs, body, kMaxBodyBytes + 1);
    if (body.empty()) return body;
    if (type != kFormType) throw HttpError(415, std::string("a POST body must be ") + kFormType);
    if (body.size() > kMaxBodyBytes) throw HttpError(413, too_large);
    return body;
  }
  if (type != kFormType) throw HttpError(415, std::string("a POST body must be ") + kFormType);
  readBody(inputs, body, framing->length);
  if (body.size() < framing->length)
    throw HttpError(400, "the request body is shorter than its Content-Length");
  return body;
}

// True when the request announces a body: a Content-Length above 0, or chunked.
bool hasBody(const EnvLookup& env) {
  const std::optional<BodyFraming> framing = bodyFraming(env);
  return !framing || framing->to_end_of_input || framing->length > 0;
}

std::string formWithKeyTooLarge(const std::string& name) {
  return "a form body carrying " + name + " may be at most " + std::to_string(kMaxBodyBytes) +
         " bytes; put " + name + " in the query string instead";
}

// The CGI meta-variable of a request header: X-Api-Key -> HTTP_X_API_KEY.
std::string headerVariable(const std::string& header) {
  std::string variable = "HTTP_";
  for (char c : header)
    variable += c == '-' ? '_' : (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return variable;
}

KeyOutcome refusal(int status, std::string detail) {
  KeyOutcome outcome;
  outcome.refusal_status = status;
  outcome.refusal_detail = std::move(detail);
  return outcome;
}

// The key standing for a header's value or an address (key.h encodeKey).
KeyOutcome keyOfValue(const std::string& value, const std::string& what) {
  if (value.empty()) return refusal(401, what + " is missing: the request must carry a key");
  KeyOutcome outcome;
  outcome.key = encodeKey(value);
  if (outcome.key.size() > kMaxKeyBytes)
    return refusal(400, what + " is too long to be a key: at most " +
                            std::to_string(kMaxKeyBytes) + " bytes once encoded");
  return outcome;
}

}  // namespace

CgiInputs processInputs() {
  CgiInputs inputs;
  inputs.env = [](const char* name) -> const char* { return std::getenv(name); };
  inputs.read_body = [](char* buffer, std::size_t size) -> std::size_t {
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, buffer, size);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return 0;
    }
  };
  return inputs;
}

std::string requestMethod(const EnvLookup& env) {
  const char* method = env("REQUEST_METHOD");
  return method == nullptr ? std::string("GET") : std::string(method);
}

bool isHeadRequest(const EnvLookup& env) { return requestMethod(env) == "HEAD"; }

KeyOutcome requestKey(const CgiInputs& inputs, const KeySource& source, bool guarding) {
  const std::string method = requestMethod(inputs.env);
  if (!guarding && method != "GET" && method != "HEAD" && method != "POST")
    throw MethodNotAllowed("GET, HEAD, POST");
  const std::string query = envString(inputs.env, "QUERY_STRING");
  if (query.size() > kMaxQueryBytes)
    throw HttpError(414, "the query string may be at most " +
                             std::to_string(kMaxQueryBytes) + " bytes");
  if (source.kind == KeySource::Kind::kHeader)
    return keyOfValue(envString(inputs.env, headerVariable(source.name).c_str()),
                      "the " + source.name + " header");
  if (source.kind == KeySource::Kind::kRemoteAddress)
    return keyOfValue(envString(inputs.env, "REMOTE_ADDR"), "the client address");

  const std::string& name = source.name;
  std::vector<std::string> values;
  collectValues("GET", query, name, values);
  if (method == "POST" && !guarding) {
    collectValues("POST", readPostBody(inputs, bodyTooLarge()), name, values);
  } else if (guarding && values.empty() && hasBody(inputs.env) &&
             mediaType(envString(inputs.env, "CONTENT_TYPE")) == kFormType) {
    // The application's body is read only when the key can be nowhere else;
    // the application gets it back byte for byte (CgiInputs::body_kept).
    collectValues("POST", readPostBody(inputs, formWithKeyTooLarge(name)), name, values);
  }
  if (values.size() > 1)
    return refusal(400, name + " must be given once, not " + std::to_string(values.size()) +
                            " times");
  if (values.empty() || values.front().empty())
    return refusal(401, "no " + name + " was given: the request must carry a key");
  if (!isValidKey(values.front())) return refusal(400, name + " " + keyRule());
  KeyOutcome outcome;
  outcome.key = values.front();
  return outcome;
}

void drainRequestBody(const CgiInputs& inputs) {
  const std::optional<BodyFraming> framing = bodyFraming(inputs.env);
  if (!framing) return;
  const unsigned long long announced =
      framing->to_end_of_input ? kMaxDrainBytes : std::min<unsigned long long>(framing->length, kMaxDrainBytes);
  unsigned long long left = announced > *inputs.body_read ? announced - *inputs.body_read : 0;
  char buffer[4096];
  while (left > 0) {
    size_t n = inputs.read_body(buffer, std::min<unsigned long long>(left, sizeof buffer));
    if (n == 0) break;
    left -= n;
    *inputs.body_read += n;
  }
}

void requireReadOnlyMethod(const EnvLookup& env) {
  const std::string method = requestMethod(env);
  if (method != "GET" && method != "HEAD")
    throw MethodNotAllowed("GET, HEAD");
}

Response messageResponse(int status, const std::string& detail) {
  Response response;
  response.status = status;
  const char* phrase = reasonPhrase(status);
  response.fields.emplace_back("message", phrase != nullptr ? phrase : "Error");
  if (!detail.empty() && status >= 400 && status < 500)
    response.fields.emplace_back("detail", detail);
  return response;
}

Response responseForException(const std::exception_ptr& failure) {
  int status = 500;
  std::string detail;
  std::string allowed;
  try {
    std::rethrow_exception(failure);
  } catch (const StoreError& e) {
    // The limiter cannot decide: ours to fix, not the client's.
    status = 503;
    detail = e.what();
  } catch (const ConfigError& e) {
    detail = e.what();
  } catch (const MethodNotAllowed& e) {
    status = e.status();
    detail = e.what();
    allowed = e.allowed();
  } catch (const HttpError& e) {
    status = e.status();
    detail = e.what();
  } catch (const std::bad_alloc&) {
    detail = "out of memory";
  } catch (const std::exception& e) {
    detail = std::string("unexpected exception: ") + e.what();
  } catch (...) {
    detail = "unexpected exception of unknown type";
  }
  if (status < 400 || status > 599) {
    detail = "status " + std::to_string(status) + " raised as an error: " + detail;
    status = 500;
  }
  if (status >= 500) {
    reportServerError(statusLine(status) + ": " + detail);
    return messageResponse(status);
  }
  Response response = messageResponse(status, detail);
  if (!allowed.empty()) response.headers.emplace_back("Allow", allowed);
  return response;
}

std::string renderCgi(const Response& response, bool head_only) {
  std::string out;
  out.reserve(512);
  out += "Status: " + statusLine(response.status) + "\r\n";
  out += "Content-Type: application/json; charset=utf-8\r\n";
  out += "Cache-Control: no-store\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (head_only) return out;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  for (const auto& [name, value] : response.fields) {
    writer.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    writer.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  writer.EndObject();
  out.append(buffer.GetString(), buffer.GetSize());
  out += "\n";
  return out;
}

void sendResponse(const Response& response, bool head_only) {
  const std::string text = renderCgi(response, head_only);
  markResponseStarted();
  if (!writeAll(STDOUT_FILENO, text.data(), text.size()))
    logLine("could not write the response: " + std::string(std::strerror(errno)));
}

}  // namespace access_limiter
