#include "fatal_handlers.h"

#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <exception>

#include "logging.h"
#include "mail_notification.h"
#include "signal_safe.h"

namespace access_limiter {

namespace {

// Everything the fatal paths use is prepared here beforehand, in fixed
// buffers: a signal handler may call only async-signal-safe functions, so it
// cannot allocate or format.
char g_fatal_response[1024] = "";
std::size_t g_fatal_response_size = 0;
volatile sig_atomic_t g_response_started = 0;
volatile sig_atomic_t g_in_fatal_handler = 0;
char g_alternate_stack[64 * 1024];

void writeFatalResponse() {
  if (g_response_started) return;
  g_response_started = 1;
  writeAll(STDOUT_FILENO, g_fatal_response, g_fatal_response_size);
}

const char* signalName(int signal_number) {
  switch (signal_number) {
    case SIGSEGV: return "SIGSEGV (invalid memory access)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGFPE: return "SIGFPE (arithmetic error)";
    case SIGABRT: return "SIGABRT (abort)";
    case SIGILL: return "SIGILL (illegal instruction)";
    default: return "unexpected signal";
  }
}

void onFatalSignal(int signal_number) {
  if (g_in_fatal_handler) _exit(128 + signal_number);
  g_in_fatal_handler = 1;
  writeFatalResponse();
  logLineFromSignal("fatal signal ", signalName(signal_number));
  char message[256];
  std::size_t n = copyInto(message, sizeof message, 0, "fatal signal ");
  copyInto(message, sizeof message, n, signalName(signal_number));
  mailFromSignalHandler(message);
  // Exit with the signal's conventional status rather than re-raise: the
  // answer is out and logged, and a core dump per request is not wanted.
  _exit(128 + signal_number);
}

void onTerminate() {
  std::string cause = "std::terminate called";
  if (std::exception_ptr current = std::current_exception()) {
    try {
      std::rethrow_exception(current);
    } catch (const std::exception& e) {
      cause += " with an uncaught exception: ";
      cause += e.what();
    } catch (...) {
      cause += " with an uncaught exception of unknown type";
    }
  }
  g_in_fatal_handler = 1;
  writeFatalResponse();
  reportServerError(cause);
  _exit(70);  // EX_SOFTWARE
}

}  // namespace

void installFatalHandlers(const std::string& response) {
  g_fatal_response_size = copyInto(g_fatal_response, sizeof g_fatal_response, 0, response.c_str());
  std::set_terminate(onTerminate);
  // An alternate stack, so a stack overflow still reaches the handler.
  stack_t stack{};
  stack.ss_sp = g_alternate_stack;
  stack.ss_size = sizeof g_alternate_stack;
  sigaltstack(&stack, nullptr);
  struct sigaction action {};
  action.sa_handler = onFatalSignal;
  action.sa_flags = SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL})
    sigaction(signal_number, &action, nullptr);
}

void markResponseStarted() { g_response_started = 1; }

}  // namespace access_limiter
