#include "cgi_app.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cgi_adapter.h"
#include "clock.h"
#include "config.h"
#include "error_integration.h"
#include "file_store.h"
#include "http_status.h"
#include "limiter.h"

#ifndef ACCESS_LIMITER_VERSION
#define ACCESS_LIMITER_VERSION "unknown"
#endif

namespace access_limiter {

namespace {

const char kLimiterHelp[] =
    "Usage: access-limiter [--help | --version | --check-config | --gc]\n"
    "\n"
    "Run by a web server as a CGI program (no arguments), it admits at most\n"
    "ACCESS_LIMIT requests per key per second and answers JSON:\n"
    "  200 OK, 429 Too Many Requests (with Retry-After), 401 without a key,\n"
    "  400 for a malformed key, 503 when the store fails.\n"
    "From a shell it behaves as a GET:\n"
    "  QUERY_STRING='app_id=demo' access-limiter\n"
    "\n"
    "Commands:\n"
    "  --check-config  print the effective configuration; exit 1 if invalid\n"
    "  --gc            remove past windows of every key (for cron or a timer)\n"
    "  --version       print the version\n"
    "  --help          print this help\n"
    "\n"
    "Environment (Apache: SetEnv):\n"
    "  ACCESS_LIMIT         requests per key per second (1-100000; default 10)\n"
    "  ACCESS_ROOT          store directory, shared by all web nodes (default /tmp/access)\n"
    "  ACCESS_KEY           parameter that carries the key (default app_id)\n"
    "  ACCESS_FAIL_OPEN     1 = admit when the store fails (default 0: answer 503)\n"
    "  ACCESS_ERROR_MAIL    mail server errors to this address (default: off)\n"
    "  ACCESS_MAIL_COMMAND  sendmail-compatible program (default /usr/sbin/sendmail)\n";

const char kHealthHelp[] =
    "Usage: access-health [--help | --version]\n"
    "\n"
    "Run by a web server as a CGI program (no arguments), it proves that\n"
    "ACCESS_ROOT is writable by creating and removing a probe file, and answers\n"
    "200 {\"status\":\"ok\"} or 503 with the reason. It is never rate-limited;\n"
    "point the load balancer's health check at it.\n";

const EnvLookup kProcessEnv = [](const char* name) -> const char* {
  return std::getenv(name);
};

// Answers the operator commands. Returns the exit status, or -1 for none.
int runCommand(int argc, char** argv, const char* program, const char* help,
               bool with_limiter_commands) {
  if (argc < 2) return -1;
  const std::string command = argv[1];
  if (argc > 2 || (command != "--help" && command != "--version" &&
                   !(with_limiter_commands &&
                     (command == "--check-config" || command == "--gc")))) {
    std::fprintf(stderr, "%s: unknown arguments; see %s --help\n", program, program);
    return 2;
  }
  if (command == "--help") {
    std::fputs(help, stdout);
    return 0;
  }
  if (command == "--version") {
    std::printf("%s %s\n", program, ACCESS_LIMITER_VERSION);
    return 0;
  }
  try {
    const Config config = loadConfig(kProcessEnv);
    if (command == "--check-config") {
      std::fputs(describeConfig(config).c_str(), stdout);
      return 0;
    }
    FileStore store(config.root);
    const Second before = SystemClock().now() - kClockSkewToleranceSeconds;
    const int removed = store.removeAllWindowsBefore(before);
    std::printf("%s: removed %d past windows under %s\n", program, removed,
                config.root.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

#ifdef ACCESS_TEST_FAULTS
// Test builds only: ACCESS_TEST_FAULT makes a request fail in a chosen way,
// so tests can drive every path into the error integration. The production
// binary is compiled without this function.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wterminate"
void __attribute__((noinline)) throwFromNoexcept() noexcept {
  throw std::runtime_error("thrown through a noexcept function");
}
#pragma GCC diagnostic pop

// Not instrumented: the faults are undefined behaviour by design, and under
// the sanitizers they must still reach the real signal handlers under test.
__attribute__((no_sanitize("address", "undefined"))) void injectFault() {
  const char* fault = std::getenv("ACCESS_TEST_FAULT");
  if (fault == nullptr) return;
  const std::string name = fault;
  if (name == "exception") throw std::runtime_error("injected failure");
  if (name == "unknown-exception") throw 42;
  if (name == "terminate") throwFromNoexcept();
  if (name == "segv") {
    volatile int* volatile nowhere = nullptr;
    *nowhere = 1;
  }
  if (name == "fpe") {
    // Both operands volatile: GCC turns 1/x into a comparison, no division.
    volatile int numerator = 1;
    volatile int zero = 0;
    volatile int result = numerator / zero;
    (void)result;
  }
  if (name == "bus") std::raise(SIGBUS);
  if (name == "abort") std::abort();
  if (name == "segv-after-response") {
    sendResponse(messageResponse(200), false);
    volatile int* volatile nowhere = nullptr;
    *nowhere = 1;
  }
}

// Test builds only: ACCESS_TEST_NOW pins the clock to an epoch second.
class TestableClock final : public Clock {
 public:
  Second now() const override {
    if (const char* pinned = std::getenv("ACCESS_TEST_NOW"))
      return std::strtoll(pinned, nullptr, 10);
    return SystemClock().now();
  }
};
using RequestClock = TestableClock;
#else
void injectFault() {}
using RequestClock = SystemClock;
#endif

Response decisionResponse(const Decision& d) {
  Response response = messageResponse(d.admitted ? 200 : 429);
  response.headers.emplace_back("RateLimit-Policy",
                                "\"default\";q=" + std::to_string(d.limit) + ";w=1");
  response.headers.emplace_back("RateLimit", "\"default\";r=" + std::to_string(d.remaining) +
                                                 ";t=" + std::to_string(d.reset_after));
  if (!d.admitted) response.headers.emplace_back("Retry-After", std::to_string(d.reset_after));
  return response;
}

void installHandlers(const char* program) {
  setProgramName(program);
  installFatalHandlers(renderCgi(messageResponse(500), isHeadRequest(kProcessEnv)));
}

}  // namespace

int runLimiter(int argc, char** argv) {
  const char* program = "access-limiter";
  const int command_status = runCommand(argc, argv, program, kLimiterHelp, true);
  if (command_status >= 0) return command_status;
  installHandlers(program);

  const CgiInputs inputs = processInputs();
  Response response;
  try {
    const Config config = loadConfig(kProcessEnv);
    configureNotification(config.error_mail, config.mail_command);
    const std::string key = limiterKey(inputs, config.key_param);
    injectFault();
    FileStore store(config.root);
    RequestClock clock;
    Limiter limiter(store, clock, config.limit);
    try {
      const Decision decision = limiter.admit(key);
      if (!decision.collect_error.empty())
        logLine("could not collect past windows of key " + key + ": " + decision.collect_error);
      response = decisionResponse(decision);
    } catch (const StoreError& e) {
      if (!config.fail_open) throw;
      // Fail-open is the operator's choice (ACCESS_FAIL_OPEN=1): availability
      // over the limit. Still logged and mailed, since nothing is counted.
      reportServerError(std::string("store failed, admitting unlimited (ACCESS_FAIL_OPEN=1): ") +
                        e.what());
      response = messageResponse(200);
    }
  } catch (...) {
    response = responseForException(std::current_exception());
  }
  drainRequestBody(inputs);
  sendResponse(response, isHeadRequest(kProcessEnv));
  return 0;
}

int runHealth(int argc, char** argv) {
  const char* program = "access-health";
  const int command_status = runCommand(argc, argv, program, kHealthHelp, false);
  if (command_status >= 0) return command_status;
  installHandlers(program);

  Response response;
  try {
    requireReadOnlyMethod(kProcessEnv);
    const Config config = loadConfig(kProcessEnv);
    configureNotification(config.error_mail, config.mail_command);
    try {
      FileStore(config.root).probe();
      response.status = 200;
      response.fields.emplace_back("status", "ok");
    } catch (const StoreError& e) {
      // Logged, not mailed: the load balancer polls every few seconds.
      logLine(std::string("health check failed: ") + e.what());
      response.status = 503;
      response.fields.emplace_back("status", "unavailable");
      response.fields.emplace_back("message", "Service Unavailable");
      response.fields.emplace_back("reason", std::string("ACCESS_ROOT is not writable: ") +
                                                 std::strerror(e.errorNumber()));
    }
  } catch (...) {
    response = responseForException(std::current_exception());
  }
  drainRequestBody(processInputs());
  sendResponse(response, isHeadRequest(kProcessEnv));
  return 0;
}

}  // namespace access_limiter
