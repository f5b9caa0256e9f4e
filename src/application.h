#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config.h"

namespace access_limiter {

// Guarding an application: the program as the handler of Apache's Action
// (mod_actions) for a protected location. Apache passes the requested
// script in PATH_INFO (its URL path) and PATH_TRANSLATED (its file); an
// admitted request replaces this process with that script, or with
// ACCESS_APP_INTERPRETER running it, as if Apache had run it directly.

// True when this run is the handler of an Action: REDIRECT_HANDLER is set.
// Only then are REDIRECT_-prefixed settings honoured and anything executed.
bool runAsHandler(const EnvLookup& env);

// The settings of a handler run. Variables set for the protected location
// reach the handler prefixed (REDIRECT_ACCESS_LIMIT); they come first, then
// those set for the handler's own URL (ACCESS_LIMIT).
EnvLookup handlerSettings(const EnvLookup& env);

// Why a guarded request's script does not run: the guard's own error, which
// cgi_adapter's responseForException maps to HTTP with every other one
// (kMissing 404, kForbidden 403). what() is the detail for the client.
class ApplicationRefused : public std::runtime_error {
 public:
  enum class Reason { kMissing, kForbidden };
  ApplicationRefused(Reason reason, const std::string& detail)
      : std::runtime_error(detail), reason_(reason) {}
  Reason reason() const { return reason_; }

 private:
  Reason reason_;
};

// The requested script, found under the application root.
struct Application {
  std::string script_file;    // as Apache names it: SCRIPT_FILENAME of a direct run
  std::string resolved_file;  // with links and ".." resolved: what is executed
  std::string script_name;    // its URL path: SCRIPT_NAME
  std::string path_info;      // the URL path after it, "" for none: PATH_INFO
};

// Finds the script of a handler run. Throws ApplicationRefused: kMissing
// when nothing is requested or the script is missing (or is a directory),
// kForbidden when it
// resolves outside config.app_root, is an nph- script (its own status line
// cannot follow ours) or cannot be executed (not executable without an
// interpreter, not readable with one). Throws ConfigError when
// ACCESS_APP_ROOT is unset or not a directory.
Application findApplication(const EnvLookup& env, const Config& config);

// Replaces this process with the application: the CGI environment of a
// direct run of the script (REDIRECT_-prefixed variables of the protected
// location unprefixed, the handler's bookkeeping and its own ACCESS_*
// settings removed, ACCESS_KEY_SECRET never handed on, CONTEXT_PREFIX and
// CONTEXT_DOCUMENT_ROOT the location's; REDIRECT_STATUS kept when an
// interpreter runs it, as php-cgi demands), the working
// directory the script's, `header_lines` ("Name: value\r\n"...) written
// first for Apache to merge with the application's, and `body`, when not
// empty, as its stdin (the bytes the limiter read, handed back). Returns
// only when the exec failed, with errno set.
void execApplication(const Application& application, const Config& config,
                     const std::string& header_lines, const std::string& body);

}  // namespace access_limiter
