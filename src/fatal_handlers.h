#pragma once

#include <string>

namespace access_limiter {

// std::terminate and the fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGABRT,
// SIGILL) end here: they answer with the response handed to
// installFatalHandlers unless part of a response was already written, log
// the cause and mail it (mail_notification.h), and exit: 70 (EX_SOFTWARE)
// after std::terminate, 128 + the signal's number after a signal.

// Installs the terminate handler and the fatal-signal handlers, on a stack
// of their own so that a stack overflow still reaches them. `response` is
// the complete CGI response they write when nothing was written yet; of it,
// 1023 bytes are kept.
void installFatalHandlers(const std::string& response);

// Called before the first byte of a response goes out; after that the fatal
// handlers only log and mail, since a second Status line would corrupt the
// answer.
void markResponseStarted();

}  // namespace access_limiter
