#pragma once

#include <string>
#include <string_view>

namespace access_limiter {

// The one place every failure ends in, after the seed's "Integration of PHP
// Error Handling": whatever went wrong is logged as one line on stderr (which
// is Apache's error log), can be mailed, and is answered with a status.
//
// Exceptions are mapped to a status by the CGI adapter and reported here;
// std::terminate and fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL)
// arrive here directly and answer the 500 handed to installFatalHandlers,
// unless part of a response was already written.

// Mail reported server errors to `address` through `mail_command`
// (sendmail-compatible: invoked as COMMAND -i -- ADDRESS, message on stdin).
// An empty address turns notification off, the default.
//
// At most one mail per cause per `interval_seconds` (0: every one), decided
// on this node without a lock: the first report of a cause in an interval
// creates a marker (O_EXCL) in a directory of this user's alone, later ones
// add to a count of held-back reports, which the next mail states. That
// directory is /var/lib/access-limiter/mail (the package makes it), else
// $TMPDIR/access-limiter-mail-UID (/tmp without TMPDIR), made on first use;
// if another user made that name first, mail is held back (and says so in
// the log) rather than sent for every report. A cause is
// the message without its digits and parenthesised parts (paths), within
// `scope` (the store's root). Fatal signals are always mailed.
void configureNotification(const std::string& address, const std::string& mail_command,
                           int interval_seconds, const std::string& scope);

// Logs a server error (always) and, when configured and due, mails it. The
// mail is sent by a detached process holding none of our output
// descriptors, so it never delays the response or the web server.
void reportServerError(std::string_view message);

// Installs the terminate handler and the fatal-signal handlers. `response` is
// the complete CGI response they write when nothing was written yet.
void installFatalHandlers(const std::string& response);

// Called before the first byte of a response goes out; after that the fatal
// handlers only log, since a second Status line would corrupt the answer.
void markResponseStarted();

}  // namespace access_limiter
