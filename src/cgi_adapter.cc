#include "cgi_adapter.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>
#include <cgicc/CgiUtils.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "application.h"
#include "fatal_handlers.h"
#include "http_status.h"
#include "key.h"
#include "logging.h"
#include "mail_notification.h"
#include "parameter_names.h"
#include "signal_safe.h"
#include "store.h"

namespace access_limiter {

namespace {

// What a form-encoded text says of the key parameter, as any application
// could read it (parameter_names.h).
struct KeyParameterScan {
  std::vector<std::string> values;  // of each parameter named exactly as the key
  // Each other way the text names the key parameter, for the 400's detail.
  std::vector<std::string> other_spellings;
};

// `text` with each %uXXXX as the character it stands for (UTF-8), as Perl's
// CGI.pm decodes it; the rest as it is, for form_urldecode.
std::string withPercentU(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i + 6 <= text.size() && text[i] == '%' && (text[i + 1] | 0x20) == 'u' &&
        text.substr(i + 2, 4).find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
      const unsigned long code = std::stoul(text.substr(i + 2, 4), nullptr, 16);
      if (code < 0x80) {
        out += static_cast<char>(code);
      } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
      } else {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
      }
      i += 5;
    } else {
      out += text[i];
    }
  }
  return out;
}

// True when a name as sent (still encoded) could be read as `name`,
// decoded as cgicc and PHP decode it, or as CGI.pm does (%uXXXX too).
bool encodedNameReadAs(const std::string& raw, const std::string& name) {
  const std::string decoded = cgicc::form_urldecode(raw);
  return (!decoded.empty() && readAsParameter(decoded, name)) ||
         readAsParameter(cgicc::form_urldecode(withPercentU(raw)), name);
}

// Scans form-encoded `data` for the key parameter `name`. PHP splits
// parameters only at '&'; Perl's CGI.pm, older Rack and Python split at
// ';' too, so a key parameter after a ';' counts as another spelling. A
// value is the decoded text after the first '=' of its '&'-separated part,
// as PHP reads it.
void scanForKey(const std::string& data, const std::string& name, KeyParameterScan& scan) {
  std::size_t part_start = 0;
  while (part_start <= data.size()) {
    std::size_t part_end = data.find('&', part_start);
    if (part_end == std::string::npos) part_end = data.size();
    const std::string part = data.substr(part_start, part_end - part_start);
    std::size_t piece_start = 0;
    for (bool first = true; piece_start <= part.size(); first = false) {
      std::size_t piece_end = part.find(';', piece_start);
      if (piece_end == std::string::npos) piece_end = part.size();
      const std::string piece = part.substr(piece_start, piece_end - piece_start);
      const std::string raw_name = piece.substr(0, piece.find('='));
      const std::string piece_name = cgicc::form_urldecode(raw_name);
      if (encodedNameReadAs(raw_name, name)) {
        if (first && piece_name == name) {
          const std::size_t equals = part.find('=');
          scan.values.push_back(equals == std::string::npos
                                    ? std::string()
                                    : cgicc::form_urldecode(part.substr(equals + 1)));
        } else {
          scan.other_spellings.push_back(first ? piece_name : ";" + piece_name);
        }
      }
      piece_start = piece_end + 1;
    }
    part_start = part_end + 1;
  }
}

// The detail of a 400 for a key parameter spelled another way.
std::string otherSpellingDetail(const std::string& spelling, const std::string& name) {
  if (spelling.front() == ';')
    return name + " follows a ';' (as \"" + spelling.substr(1) +
           "\"): some applications split parameters there and PHP does not, so they "
           "would read different keys; separate parameters with '&'";
  return "parameter \"" + spelling + "\" would be read as " + name +
         " (PHP turns ' ' and '.' into '_' and makes \"" + name +
         "[...]\" an array); give " + name + " once, spelled exactly";
}

// The media type of a Content-Type value, as PHP decides whether a body is
// a form: lower-cased, cut at the first ';', ',' or blank (after leading blanks).
std::string mediaType(const std::string& content_type) {
  const std::size_t start = content_type.find_first_not_of(" \t");
  if (start == std::string::npos) return std::string();
  std::string type = content_type.substr(start, content_type.find_first_of(";, \t", start) - start);
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

// The request body, read and bounded by us, and kept in inputs.body_kept.
// Empty when there is none. `too_large` is the 413's detail; with
// `form_only`, a body that is not a form is a 415.
std::string readBoundedBody(const CgiInputs& inputs, const std::string& too_large, bool form_only) {
  const std::optional<BodyFraming> framing = bodyFraming(inputs.env);
  if (!framing) throw HttpError(400, "Content-Length must be a whole number of bytes");
  if (!framing->to_end_of_input && framing->length == 0) return std::string();
  if (framing->length > kMaxBodyBytes) throw HttpError(413, too_large);
  const bool refused_type =
      form_only && mediaType(envString(inputs.env, "CONTENT_TYPE")) != kFormType;
  const std::string wrong_type = std::string("a POST body must be ") + kFormType;
  std::string& body = *inputs.body_kept;
  if (framing->to_end_of_input) {
    // Only reading tells whether a chunked body is empty; an empty one is
    // no body, whatever its type.
    readBody(inputs, body, kMaxBodyBytes + 1);
    if (body.empty()) return body;
    if (refused_type) throw HttpError(415, wrong_type);
    if (body.size() > kMaxBodyBytes) throw HttpError(413, too_large);
    return body;
  }
  if (refused_type) throw HttpError(415, wrong_type);
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

std::string formTooLargeToCheck(const std::string& name) {
  return "a form body may be at most " + std::to_string(kMaxBodyBytes) +
         " bytes where the key is the parameter " + name +
         ", so that every " + name + " the application could read is counted; "
         "put large uploads where the key is a header (ACCESS_KEY=header:NAME)";
}

// Every name a multipart body could give a field, read generously: the
// value after each "name", optional blanks, "=" and optional blanks,
// anywhere in the body (in any header line, folded or not, or in a file's
// content: such a name can only add a refusal, never hide a field). A
// quoted value runs to its quote or the end of its line, with backslashes
// dropped (PHP's parser unescapes them); an unquoted one ends at ';', ','
// or a blank. PHP, Perl's CGI.pm and Python parse part headers each their
// own way, so matching one of them exactly would leave gaps for the others.
std::vector<std::string> multipartFieldNames(const std::string& body) {
  const auto blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
  };
  std::vector<std::string> names;
  for (std::size_t at = 0; at + 4 <= body.size(); ++at) {
    if (!((body[at] | 0x20) == 'n' && (body[at + 1] | 0x20) == 'a' &&
          (body[at + 2] | 0x20) == 'm' && (body[at + 3] | 0x20) == 'e'))
      continue;
    std::size_t i = at + 4;
    while (i < body.size() && blank(body[i])) ++i;
    if (i >= body.size() || body[i] != '=') continue;
    ++i;
    while (i < body.size() && blank(body[i])) ++i;
    std::string name;
    if (i < body.size() && (body[i] == '"' || body[i] == '\'')) {
      const char quote = body[i++];
      for (; i < body.size() && body[i] != quote && body[i] != '\r' && body[i] != '\n'; ++i)
        if (body[i] != '\\') name += body[i];
    } else {
      for (; i < body.size() && !blank(body[i]) && body[i] != ';' && body[i] != ','; ++i)
        if (body[i] != '\\') name += body[i];
    }
    names.push_back(name);
  }
  return names;
}

// How a guarded request's body is read for keys. Applications differ in
// what they take for a form: PHP a urlencoded or multipart/form-data type;
// Perl's CGI.pm a type that starts as a form's does, or none at all;
// Python's cgi any multipart type, and a POST without a type as a form. So
// the limiter reads as a form whatever any of them would.
enum class GuardedBody { kNotAForm, kUrlencoded, kMultipart };

GuardedBody guardedBodyKind(const std::string& content_type) {
  const std::size_t start = content_type.find_first_not_of(" \t");
  if (start == std::string::npos) return GuardedBody::kUrlencoded;
  std::string type = content_type.substr(start);
  for (char& c : type)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (type.compare(0, sizeof kFormType - 1, kFormType) == 0) return GuardedBody::kUrlencoded;
  if (type.compare(0, 10, "multipart/") == 0) return GuardedBody::kMultipart;
  return GuardedBody::kNotAForm;
}

// The name of a cookie an application could read as the key parameter
// `name` in another way than as `key` itself: under another spelling (an
// array, say) or with another value. Cookies are split at ';' (PHP) and,
// for other parsers, at ',' too; names are checked as sent and decoded.
std::string cookieReadAsKey(const std::string& cookies, const std::string& name,
                            const std::string& key) {
  for (const char* separators : {";", ";,"}) {
    std::size_t start = 0;
    while (start < cookies.size()) {
      std::size_t end = cookies.find_first_of(separators, start);
      if (end == std::string::npos) end = cookies.size();
      const std::string cookie = cookies.substr(start, end - start);
      start = end + 1;
      const std::size_t equals = cookie.find('=');
      std::string raw_name = cookie.substr(0, equals);
      raw_name.erase(0, raw_name.find_first_not_of(" \t"));
      const std::string decoded_name = cgicc::form_urldecode(raw_name);
      if (!readAsParameter(raw_name, name) && !encodedNameReadAs(raw_name, name)) continue;
      const std::string value =
          equals == std::string::npos ? std::string() : cookie.substr(equals + 1);
      const bool the_key_itself = (raw_name == name || decoded_name == name) &&
                                  (value == key || cgicc::form_urldecode(value) == key);
      if (!the_key_itself) return raw_name;
    }
  }
  return std::string();
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

// The key standing for a header's value or an address (key.h encodeKey),
// or, with `secret`, for a credential (key.h hashedKey).
KeyOutcome keyOfValue(const std::string& value, const std::string& what,
                      const std::optional<KeySecret>& secret) {
  if (value.empty()) return refusal(401, what + " is missing: the request must carry a key");
  KeyOutcome outcome;
  outcome.key = encodeKey(value);
  if (outcome.key.size() > kMaxKeyBytes)
    return refusal(400, what + " is too long to be a key: at most " +
                            std::to_string(kMaxKeyBytes) + " bytes once encoded");
  if (secret) outcome.key = hashedKey(value, *secret);
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
  inputs.stop_body = [] { return shutdown(STDIN_FILENO, SHUT_RD) == 0; };
  return inputs;
}

std::string requestMethod(const EnvLookup& env) {
  const char* method = env("REQUEST_METHOD");
  return method == nullptr ? std::string("GET") : std::string(method);
}

bool isHeadRequest(const EnvLookup& env) { return requestMethod(env) == "HEAD"; }

KeyOutcome requestKey(const CgiInputs& inputs, const KeySource& source, FrontDoor door) {
  const bool guarding = door != FrontDoor::kEndpoint;
  const std::string method = requestMethod(inputs.env);
  if (!guarding && method != "GET" && method != "HEAD" && method != "POST")
    throw MethodNotAllowed("GET, HEAD, POST");
  const std::string query = envString(inputs.env, "QUERY_STRING");
  if (query.size() > kMaxQueryBytes)
    throw HttpError(414, "the query string may be at most " +
                             std::to_string(kMaxQueryBytes) + " bytes");
  if (source.kind == KeySource::Kind::kHeader)
    return keyOfValue(envString(inputs.env, headerVariable(source.name).c_str()),
                      "the " + source.name + " header", source.secret.value_or(KeySecret{}));
  if (source.kind == KeySource::Kind::kRemoteAddress)
    return keyOfValue(envString(inputs.env, "REMOTE_ADDR"), "the client address", std::nullopt);

  const std::string& name = source.name;
  KeyParameterScan scan;
  scanForKey(query, name, scan);
  if (method == "POST" && !guarding) {
    scanForKey(readBoundedBody(inputs, bodyTooLarge(), true), name, scan);
  } else if (door == FrontDoor::kAuthorizer) {
    // No body reaches an authorizer, nor its length (mod_authnz_fcgi drops
    // CONTENT_LENGTH): a form type is enough to refuse. A body without a
    // type is not a form to PHP.
    const std::string type = envString(inputs.env, "CONTENT_TYPE");
    if (type.find_first_not_of(" \t") != std::string::npos &&
        guardedBodyKind(type) != GuardedBody::kNotAForm)
      return refusal(400, "a form body could carry another " + name +
                              " than the one counted, and this limiter (a FastCGI authorizer) "
                              "cannot read bodies: give " + name +
                              " in the query string of a request whose body is not a form, or "
                              "take the key from a header (ACCESS_KEY=header:NAME)");
  } else if (guarding && hasBody(inputs.env)) {
    // The application's body: a form is read (and handed back byte for
    // byte, CgiInputs::body_kept) so that no key in it goes uncounted;
    // any other body is the application's alone.
    const GuardedBody kind = guardedBodyKind(envString(inputs.env, "CONTENT_TYPE"));
    if (kind == GuardedBody::kUrlencoded) {
      scanForKey(readBoundedBody(inputs, formTooLargeToCheck(name), false), name, scan);
    } else if (kind == GuardedBody::kMultipart) {
      const std::string& body = readBoundedBody(inputs, formTooLargeToCheck(name), false);
      // CGI.pm reads a PUT's or PATCH's body as urlencoded whatever its type.
      scanForKey(body, name, scan);
      for (const std::string& field : multipartFieldNames(body))
        if (readAsParameter(field, name))
          return refusal(400, "the multipart form has a field \"" + field +
                                  "\" that would be read as " + name + "; give " + name +
                                  " in the query string");
    }
  }
  if (scan.values.size() > 1)
    return refusal(400, name + " must be given once, not " + std::to_string(scan.values.size()) +
                            " times");
  // No key: refused, so no application runs, whatever it would have read.
  if (scan.values.empty() || scan.values.front().empty())
    return refusal(401, "no " + name + " was given: the request must carry a key");
  if (!scan.other_spellings.empty())
    return refusal(400, otherSpellingDetail(scan.other_spellings.front(), name));
  if (!isValidKey(scan.values.front())) return refusal(400, name + " " + keyRule());
  if (guarding) {
    if (std::string cookie = cookieReadAsKey(envString(inputs.env, "HTTP_COOKIE"), name,
                                             scan.values.front());
        !cookie.empty())
      return refusal(400, "a cookie named \"" + cookie + "\" would be read as " + name +
                              " in another way than the counted key (PHP's $_REQUEST can "
                              "include cookies); the key must be given once");
  }
  KeyOutcome outcome;
  outcome.key = scan.values.front();
  return outcome;
}

void drainRequestBody(const CgiInputs& inputs) {
  const std::optional<BodyFraming> framing = bodyFraming(inputs.env);
  if (!framing) return;
  const unsigned long long announced = framing->to_end_of_input ? ~0ull : framing->length;
  if (*inputs.body_read >= announced) return;
  char buffer[4096];
  if (inputs.stop_body && inputs.stop_body()) {
    // Ends after at most one socket buffer: nothing more can arrive.
    while (std::size_t n = inputs.read_body(buffer, sizeof buffer)) *inputs.body_read += n;
    return;
  }
  unsigned long long left = std::min<unsigned long long>(announced, kMaxDrainBytes);
  left = left > *inputs.body_read ? left - *inputs.body_read : 0;
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

Outcome outcomeOfAnswer(int status, bool failed_open) {
  switch (status) {
    case 200: return failed_open ? Outcome::kFailOpen : Outcome::kAdmitted;
    case 429: return Outcome::kTooManyRequests;
    case 401: return Outcome::kUnauthorized;
    case 403: return Outcome::kForbidden;
    case 400: return Outcome::kBadRequest;
    case 503: return Outcome::kUnavailable;
    default: return Outcome::kOther;
  }
}

Response responseForException(const std::exception_ptr& failure,
                              const std::function<void(std::string_view message)>& report) {
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
  } catch (const ApplicationRefused& e) {
    status = e.reason() == ApplicationRefused::Reason::kMissing ? 404 : 403;
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
    report(statusLine(status) + ": " + detail);
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
  if (response.text_type.empty())
    out += "Content-Type: application/json; charset=utf-8\r\n";
  else
    out += "Content-Type: " + response.text_type + "\r\n";
  out += "Cache-Control: no-store\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (head_only) return out;
  if (!response.text_type.empty()) return out + response.text;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  for (const auto& [name, value] : response.fields) {
    writer.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    writer.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  if (!response.violated_policies.empty()) {
    writer.Key("violated-policies");
    writer.StartArray();
    for (const std::string& name : response.violated_policies)
      writer.String(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    writer.EndArray();
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
