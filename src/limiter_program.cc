#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "application.h"
#include "cgi_adapter.h"
#include "collect_command.h"
#include "config.h"
#include "error_integration.h"
#include "file_store.h"
#include "help_text.h"
#include "http_status.h"
#include "limiter.h"
#include "node_cache.h"
#include "program_support.h"
#include "programs.h"
#include "ratelimit_headers.h"
#include "watchdog.h"

namespace access_limiter {

namespace {

const char kProgram[] = "access-limiter";

// --check-config and --gc, from a shell.
int runOperatorCommand(Command command, const LimiterSeams& seams) {
  Config config;
  try {
    config = loadConfig(processEnv());
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "%s: %s\n", kProgram, e.what());
    return 1;
  }
  if (command == Command::kCheckConfig) {
    std::fputs(describeConfig(config).c_str(), stdout);
    if (!config.node_cache.empty()) {
      try {
        SharedNodeCache check(config.node_cache, config.root);
      } catch (const NodeCacheError& e) {
        std::fprintf(stderr, "%s: ACCESS_NODE_CACHE unusable, deciding without it (slower): %s\n",
                     kProgram, e.what());
      }
    }
    return 0;
  }
  FileStore store(config.root);
  const CommandResult result = runCollection(store, seams.clock.now(), config.root, kProgram);
  std::fputs(result.out.c_str(), stdout);
  std::fputs(result.err.c_str(), stderr);
  return result.exit_status;
}

// What an admitted request of a guarded application runs.
struct Launch {
  Application application;
  Config config;
  std::string header_lines;  // the RateLimit fields, for Apache to merge
};

// The node's cache, or none: an unusable cache costs speed, never an answer
// (--check-config says why it is unusable).
std::unique_ptr<NodeCache> openNodeCache(const Config& config) {
  if (!config.node_cache.empty()) {
    try {
      return std::make_unique<SharedNodeCache>(config.node_cache, config.root);
    } catch (const NodeCacheError&) {
    }
  }
  return std::make_unique<NoNodeCache>();
}

std::string headerLines(const HeaderList& headers) {
  std::string lines;
  for (const auto& [name, value] : headers) lines += name + ": " + value + "\r\n";
  return lines;
}

// Answers a request whose store did not answer within ACCESS_STORE_TIMEOUT,
// from the watchdog's thread (watchdog.h): 503, or, failing open, the
// application or a 200 uncounted.
void answerStoreTimeout(const CgiInputs& inputs, const Config& config,
                        const std::optional<Application>& application) {
  const std::string cause = "the store did not answer within " +
                            describeSeconds(config.store_timeout_ms) +
                            " s (ACCESS_STORE_TIMEOUT) under " + config.root;
  Response response = messageResponse(503);
  if (config.fail_open) {
    reportServerError(cause + "; admitting unlimited (ACCESS_FAIL_OPEN=1)");
    if (application) {
      // Run it from a child: the stuck store call holds this process, and
      // an exec here would wait for it. The child has only this thread.
      const pid_t child = fork();
      if (child > 0) return;  // the application answers; the watchdog closes our end
      if (child == 0) {
        execApplication(*application, config, "", *inputs.body_kept);
        reportServerError(statusLine(500) + ": could not run " + application->resolved_file +
                          ": " + std::strerror(errno));
        sendResponse(messageResponse(500), isHeadRequest(inputs.env));
        _exit(0);
      }
      reportServerError(statusLine(503) + ": could not start the application: " +
                        std::strerror(errno));
    } else {
      response = messageResponse(200);
    }
  } else {
    reportServerError(statusLine(503) + ": " + cause);
  }
  drainRequestBody(inputs);
  sendResponse(response, isHeadRequest(inputs.env));
}

// Decides one request. Returns the answer, or sets `launch` when the
// request is admitted and an application is to answer it.
Response decide(const CgiInputs& inputs, const LimiterSeams& seams, std::optional<Launch>& launch) {
  const bool guarding = runAsHandler(inputs.env);
  const Config config = loadConfig(guarding ? handlerSettings(inputs.env) : inputs.env);
  configureNotification(config.error_mail, config.mail_command, config.mail_interval_seconds,
                        config.root);
  const std::string key = requestKey(inputs, config.key, guarding);
  std::optional<Application> application;
  if (guarding) application = findApplication(inputs.env, config);
  HeaderList headers;
  bool admitted = false;
  {
    std::optional<Watchdog> watchdog;
    if (config.store_timeout_ms > 0)
      watchdog.emplace(std::chrono::milliseconds(config.store_timeout_ms),
                       [&] { answerStoreTimeout(inputs, config, application); });
    if (seams.after_key_read) seams.after_key_read();
    FileStore store(config.root);
    const std::unique_ptr<NodeCache> known = openNodeCache(config);
    Limiter limiter(store, *known, seams.clock, config.limit);
    try {
      const Decision decision = limiter.admit(key);
      admitted = decision.admitted;
      headers = rateLimitHeaders(decision);
    } catch (const StoreError& e) {
      if (!config.fail_open) throw;
      // Fail-open is the operator's choice (ACCESS_FAIL_OPEN=1): availability
      // over the limit. Still logged and mailed, since nothing is counted.
      reportServerError(std::string("store failed, admitting unlimited (ACCESS_FAIL_OPEN=1): ") +
                        e.what());
      admitted = true;
    }
    if (watchdog) watchdog->disarm();
  }
  if (admitted && application) {
    launch = Launch{*application, config, headerLines(headers)};
    return Response{};
  }
  Response response = messageResponse(admitted ? 200 : 429);
  response.headers = headers;
  return response;
}

}  // namespace

int runLimiter(int argc, char** argv, const LimiterSeams& seams) {
  const Command command = commandOf(argc, argv, true);
  if (command == Command::kCheckConfig || command == Command::kCollect)
    return runOperatorCommand(command, seams);
  if (command != Command::kServe) return answerInformationalCommand(command, kProgram, limiterHelp());

  prepareCgiRun(kProgram);
  const CgiInputs inputs = processInputs();
  Response response;
  std::optional<Launch> launch;
  try {
    response = decide(inputs, seams, launch);
  } catch (...) {
    launch.reset();
    response = responseForException(std::current_exception());
  }
  if (launch) {
    // The application's answer is the response; the limiter writes nothing
    // more unless the exec fails.
    execApplication(launch->application, launch->config, launch->header_lines,
                    *inputs.body_kept);
    reportServerError(statusLine(500) + ": could not run " + launch->application.resolved_file +
                      ": " + std::strerror(errno));
    response = messageResponse(500);
  }
  drainRequestBody(inputs);
  sendResponse(response, isHeadRequest(inputs.env));
  return 0;
}

}  // namespace access_limiter
