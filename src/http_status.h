#pragma once

#include <stdexcept>
#include <string>

namespace access_limiter {

// The reason phrase of an HTTP status code (RFC 9110 and the registrations
// the error-integration post lists, plus 429 from RFC 6585). Unknown codes
// answer nullptr; the Status line then falls back to the class's generic phrase.
const char* reasonPhrase(int status);

// "404 Not Found": the value of a CGI Status header, for any code 100..599.
std::string statusLine(int status);

// A failure that already knows its HTTP answer. what() is the detail: for a
// 4xx it is shown to the client (it names the problem in the request); for a
// 5xx it is only logged and the client sees the reason phrase.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& detail)
      : std::runtime_error(detail), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// A request method the endpoint does not serve: 405, with the Allow header.
class MethodNotAllowed : public HttpError {
 public:
  explicit MethodNotAllowed(std::string allowed)
      : HttpError(405, "the method must be one of " + allowed),
        allowed_(std::move(allowed)) {}
  const std::string& allowed() const { return allowed_; }

 private:
  std::string allowed_;
};

}  // namespace access_limiter
