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

// A system call of the store failed. It carries the call, the path and errno
// so the log line names all three: "open(/tmp/access/k/1/0): No space left".
// Every store failure is a 503: the limiter cannot decide, which is ours to
// fix, not the client's.
class StoreError : public HttpError {
 public:
  StoreError(const std::string& call, const std::string& path, int error_number);
  int errorNumber() const { return error_number_; }

 private:
  int error_number_;
};

// A bad ACCESS_* setting. Answers 500 (the operator's mistake, not the
// client's) and the log line says which variable and why.
class ConfigError : public HttpError {
 public:
  explicit ConfigError(const std::string& detail) : HttpError(500, detail) {}
};

}  // namespace access_limiter
