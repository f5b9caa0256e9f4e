#pragma once

#include <string>
#include <string_view>

#include "clock.h"
#include "mail_limiter.h"
#include "metrics.h"

namespace access_limiter {

// Where every server error ends, after the seed's "Integration of PHP Error
// Handling": it is logged as one line on stderr (Apache's error log) and,
// when configured and due, mailed. The CGI adapter maps exceptions to a
// status and reports the 5xx here; the fatal handlers (fatal_handlers.h)
// report std::terminate here and mail fatal signals with
// mailFromSignalHandler.

// Who is told of server errors, and how often.
struct NotificationSettings {
  // ACCESS_ERROR_MAIL: one plain address; empty turns mail off.
  std::string address;
  // ACCESS_MAIL_COMMAND: sendmail-compatible, run as COMMAND -i -- ADDRESS
  // with the mail on stdin.
  std::string mail_command;
  // ACCESS_MAIL_INTERVAL: at most one mail per cause per this; 0 mails
  // every report (see MailLimiter).
  int interval_seconds = 0;
  // The store's root: the same message about another store is another cause.
  std::string scope;
};

// Reports server errors under one request's settings. It keeps nothing
// between reports but its settings: what was mailed is on disk (MailLimiter).
class ErrorNotifier {
 public:
  // `metrics`, when given, counts each mail sent or held back; it must
  // outlive the notifier.
  ErrorNotifier(const NotificationSettings& settings, const Clock& clock,
                MailDirectories directories, Metrics* metrics = nullptr);

  // Logs `message` (always) and, when an address is set and the limiter
  // finds it due, mails it; a reason the limiter holds mail back is logged
  // too. The mail is sent by a detached process holding none of our output
  // descriptors, so it never delays the response or the web server. Of the
  // message, 2048 bytes are mailed at most.
  void report(std::string_view message) const;

 private:
  std::string address_;
  std::string mail_command_;
  MailLimiter limiter_;
  Metrics* metrics_;
};

// The CGI's convenience, for a process that answers one request: sets the
// process's notifier (the wall clock, defaultMailDirectories()) that
// reportServerError uses and fatal signals mail to. An empty address, the
// default, turns mail off.
// `metrics` counts the mails, as ErrorNotifier's; it must live until the
// process ends.
void configureNotification(const std::string& address, const std::string& mail_command,
                           int interval_seconds, const std::string& scope,
                           Metrics* metrics = nullptr);

// Reports through the process's notifier; before configureNotification,
// only logs.
void reportServerError(std::string_view message);

// For a signal handler (async-signal-safe): mails `message` to the address
// of the last configureNotification, if any, and always: the limiter
// allocates, which a signal handler may not. Does not log.
void mailFromSignalHandler(const char* message);

}  // namespace access_limiter
