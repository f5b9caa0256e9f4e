#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.h"
#include "mail_notification.h"
#include "metrics.h"

namespace access_limiter {

// The only code that knows CGI, cgicc and RapidJSON.

// Requests are refused before anything is parsed when larger than these.
inline constexpr std::size_t kMaxQueryBytes = 4096;  // QUERY_STRING; 414 beyond
inline constexpr std::size_t kMaxBodyBytes = 4096;   // POST body; 413 beyond

// At most this much of an unread request body is drained before answering
// when the sender cannot be stopped (CgiInputs::stop_body).
inline constexpr std::size_t kMaxDrainBytes = 1 << 20;

// What a CGI program reads: meta-variables and the request body.
struct CgiInputs {
  EnvLookup env;
  // Reads up to `size` body bytes into `buffer`; returns 0 at end of input.
  std::function<std::size_t(char* buffer, std::size_t size)> read_body;
  // Body bytes consumed so far, shared by copies of these inputs.
  std::shared_ptr<std::size_t> body_read = std::make_shared<std::size_t>(0);
  // The body bytes read to find a key (the whole body whenever any was),
  // for an application that must get them back.
  std::shared_ptr<std::string> body_kept = std::make_shared<std::string>();
  // Tells the sender no more body is wanted, so that read_body then ends
  // after the bytes already on their way; false when it cannot (stdin is
  // not a socket). Unset: cannot.
  std::function<bool()> stop_body;
};

// The process's own environment and stdin.
CgiInputs processInputs();

// REQUEST_METHOD, "GET" when unset (a run from the shell behaves as a GET).
std::string requestMethod(const EnvLookup& env);

// True for HEAD: the response then carries headers only.
bool isHeadRequest(const EnvLookup& env);

// The validated key of a request, from where `source` says (config.h).
// A parameter comes from QUERY_STRING or a form-encoded POST body (a chunked
// one is read to its end); a header's value or the client's address becomes
// a key through encodeKey (key.h).
//
// A parameter key is counted only when no application could read another
// value for it (parameter_names.h): a name PHP reads as the key's, or the
// key after a ';', is a 400 once a key is given; the key given twice, in any
// mix of query and body, is a 400.
//
// `door`: which front door asks.
//   kEndpoint    the limiter's own endpoint: GET, HEAD and POST, a POST's
//                body being a form the limiter reads.
//   kGuard       a protected application's request (the program runs as
//                Apache's Action handler). Any method is allowed, and the
//                body is the application's: a form body (urlencoded or
//                multipart, at most kMaxBodyBytes, else 413) is read,
//                checked for the key and kept in inputs.body_kept; any
//                other body is left unread. A cookie the application could
//                read as the key, with another value, is a 400 too.
//   kAuthorizer  as kGuard, but the body never reaches the limiter (a
//                FastCGI authorizer gets none, nor CONTENT_LENGTH). With a
//                parameter key, a form type (CONTENT_TYPE urlencoded or
//                multipart) is a 400: its body could carry a key the
//                application reads and the limiter cannot see.
//
// The key, or the refusal of a request that carries none the limiter can
// count: 401 no key, 400 a repeated or malformed key or a value too long to
// be one. Returned, not thrown: a keyless flood is the commonest refusal
// after a 429, and a first throw in a static program costs about 0.4 ms.
struct KeyOutcome {
  std::string key;          // when refusal_status is 0
  int refusal_status = 0;
  std::string refusal_detail;
};

// Throws HttpError naming the problem: 405 method (not guarding), 414 query
// too long, 400/413 bad Content-Length or body over kMaxBodyBytes, 415
// content type (not guarding), 400 body shorter than announced.
enum class FrontDoor { kEndpoint, kGuard, kAuthorizer };
KeyOutcome requestKey(const CgiInputs& inputs, const KeySource& source, FrontDoor door);

// Reads and discards the rest of the body before answering. mod_cgid hands
// the body over the socket the answer goes back on, and sends all of it
// before reading the answer; a CGI that exits with body bytes unread resets
// that socket, and Apache then drops the whole answer (the client gets an
// empty reply). So the sender is stopped (CgiInputs::stop_body) and what it
// had already sent is read to its end, whatever the body's size; where it
// cannot be stopped, at most kMaxDrainBytes of the announced body are read.
void drainRequestBody(const CgiInputs& inputs);

// Accepts only GET and HEAD (the health endpoint). Throws HttpError 405.
void requireReadOnlyMethod(const EnvLookup& env);

// An answer: the status, extra headers, and the string members of the JSON body.
struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> fields;
  // A 429's "violated-policies" member (the RateLimit draft's problem
  // types): the names of the limits that were full. Absent when empty.
  std::vector<std::string> violated_policies;
  // When set, the body is this text of this type instead of the JSON
  // (a metrics scrape).
  std::string text_type;
  std::string text;
};

// {"message": <reason phrase>} and, for a 4xx with a detail, "detail".
Response messageResponse(int status, const std::string& detail = "");

// The one place a failure becomes an answer. HttpError keeps its status;
// ApplicationRefused (application.h) is a 404 or a 403;
// StoreError (the store cannot decide) is a 503; ConfigError and any other
// exception are a 500. A 4xx shows its detail; a 5xx shows only the
// reason phrase and its detail goes to `report` (a persistent process
// passes its own notifier's).
Response responseForException(
    const std::exception_ptr& failure,
    const std::function<void(std::string_view message)>& report = reportServerError);

// How a request ended, for the node's metrics, from its answer's status:
// a 200 is an admission (uncounted when `failed_open`).
Outcome outcomeOfAnswer(int status, bool failed_open);

// The CGI response text: Status, Content-Type, Cache-Control, the extra
// headers, a blank line, and (unless head_only) the JSON body.
std::string renderCgi(const Response& response, bool head_only);

// Marks the response started and writes it to stdout.
void sendResponse(const Response& response, bool head_only);

}  // namespace access_limiter
