
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "application.h"
#include "authorizer_program.h"
#include "cgi_adapter.h"
#include "config.h"
#include "decision.h"
#include "file_store.h"
#include "help_text.h"
#include "http_status.h"
#include "logging.h"
#include "mail_notification.h"
#include "metrics.h"
#include "node_cache.h"
#include "operator_commands.h"
#include "program_support.h"
#include "programs.h"
#include "watchdog.h"

namespace access_limiter {

namespace {

const char kProgram[] = "access-limiter";

// What this run counts in the node's metrics (metrics.h), which live in the
// node cache's file: nowhere until its settings are read, which name it.
struct RunMetrics {
  std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
  std::unique_ptr<NodeCache> node_cache = std::make_unique<NoNodeCache>();
  std::unique_ptr<Metrics> sink = std::make_unique<NoMetrics>();  // into node_cache
  bool failed_open = false;  // admitted uncounted: the store failed
  Second policy_window = 0;  // the decision's policy label (Verdict::reported_policy_window)
};

// What an admitted request of a guarded application runs.
struct Launch {
  Application application;
  Config config;
  std::string header_lines;  // the RateLimit fields, for Apache to merge
};

std::string headerLines(const HeaderList& headers) {
  std::string lines;
  for (const auto& [name, value] : headers) lines += name + ": " + value + "\r\n";
  return lines;
}

// Becomes the application (execApplication). Returns only when the exec
// failed: the 500 to answer, its cause logged (and mailed).
Response becomeApplication(const Application& application, const Config& config,
                           const std::string& header_lines, const std::string& body) {
  execApplication(application, config, header_lines, body);
  reportServerError(statusLine(500) + ": could not run " + application.resolved_file + ": " +
                    std::strerror(errno));
  return messageResponse(500);
}

// Answers a request whose store did not answer within ACCESS_STORE_TIMEOUT,
// from the watchdog's thread (watchdog.h): 503, or, failing open, the
// application or a 200 uncounted.
void answerStoreTimeout(const CgiInputs& inputs, const Config& config,
                        const std::optional<Application>& application, RunMetrics& run) {
  const std::string cause = storeTimeoutCause(config);
  Response response = messageResponse(503);
  run.sink->count(Event::kStoreTimeout);
  countDecision(*run.sink, config.fail_open ? Outcome::kFailOpen : Outcome::kUnavailable,
                run.arrived);
  if (config.fail_open) {
    reportServerError(cause + "; admitting unlimited (ACCESS_FAIL_OPEN=1)");
    if (application) {
      // Run it from a child: the stuck store call holds this process, and
      // an exec here would wait for it. The child has only this thread.
      const pid_t child = fork();
      if (child > 0) return;  // the application answers; the watchdog closes our end
      if (child == 0) {
        sendResponse(becomeApplication(*application, config, "", *inputs.body_kept),
                      isHeadRequest(inputs.env));
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
Response decide(const CgiInputs& inputs, const LimiterSeams& seams, std::optional<Launch>& launch,
                RunMetrics& run) {
  const bool guarding = runAsHandler(inputs.env);
  const Config config = loadConfig(guarding ? handlerSettings(inputs.env) : inputs.env);
  run.node_cache =
      openNodeCacheOrNone(config.node_cache, nodeCacheScope(config.root, config.window_seconds));
  run.sink = metricsOf(*run.node_cache, config.metrics);
  configureNotification(config.error_mail, config.mail_command, config.mail_interval_seconds,
                        config.root, run.sink.get());
  const KeyOutcome key_outcome = requestKey(inputs, config.key, guarding ? FrontDoor::kGuard : FrontDoor::kEndpoint);
  if (key_outcome.refusal_status != 0)
    return messageResponse(key_outcome.refusal_status, key_outcome.refusal_detail);
  const std::string& key = key_outcome.key;
  std::optional<Application> application;
  if (guarding) application = findApplication(inputs.env, config);
  HeaderList headers;
  bool admitted = false;
  int refused_status = 0;
  std::string refusal_detail;
  std::vector<std::string> violated_policies;
  {
    std::optional<Watchdog> watchdog;
    if (config.store_timeout_ms > 0)
      watchdog.emplace(std::chrono::milliseconds(config.store_timeout_ms),
                       [&] { answerStoreTimeout(inputs, config, application, run); });
    if (seams.after_key_read) seams.after_key_read(key);
    FileStore store(config.root);
    try {
      const Verdict verdict =
          decideForKey(store, *run.node_cache, seams.clock, key,
                       DecisionSettings{config.limit, config.window_seconds,
                                        config.known_keys_only, config.dry_run,
                                        config.limit_list});
      if (!verdict.limit_reached.empty()) logLine(verdict.limit_reached);
      if (!verdict.release_failure.empty()) {
        logLine(verdict.release_failure);
        run.sink->count(Event::kStoreError);
      }
      run.policy_window = verdict.reported_policy_window;
      if (verdict.dry_run_changed) run.sink->count(Event::kDryRunRefusal, run.policy_window);
      if (verdict.from_node_cache) run.sink->count(Event::kNodeCacheHit, run.policy_window);
      admitted = verdict.admitted;
      headers = verdict.headers;
      refused_status = verdict.refused_status;
      refusal_detail = verdict.refusal_detail;
      violated_policies = verdict.violated_policies;
    } catch (const StoreError& e) {
      run.sink->count(Event::kStoreError);
      if (!config.fail_open) throw;
      // Fail-open is the operator's choice (ACCESS_FAIL_OPEN=1): availability
      // over the limit. Still logged and mailed, since nothing is counted.
      reportServerError(std::string("store failed, admitting unlimited (ACCESS_FAIL_OPEN=1): ") +
                        e.what());
      admitted = true;
      run.failed_open = true;
    }
    if (watchdog) watchdog->disarm();
  }
  if (admitted && application) {
    launch = Launch{*application, config, headerLines(headers)};
    return Response{};
  }
  Response response = messageResponse(admitted ? 200 : refused_status, refusal_detail);
  response.headers = headers;
  response.violated_policies = violated_policies;
  return response;
}

}  // namespace

int runLimiter(int argc, char** argv, const LimiterSeams& seams) {
  if (const std::optional<int> exit_status =
          runAuthorizerCommandLine(argc, argv, AuthorizerSeams{seams.clock, seams.after_key_read, nullptr}))
    return *exit_status;
  if (const std::optional<int> exit_status = runOperatorCommandLine(argc, argv, seams.clock))
    return *exit_status;
  const Command command = commandOf(argc, argv, true);
  if (command != Command::kServe)
    return answerInformationalCommand(command, kProgram, limiterHelp());

  RunMetrics run;
  prepareCgiRun(kProgram);
  const CgiInputs inputs = processInputs();
  Response response;
  std::optional<Launch> launch;
  try {
    response = decide(inputs, seams, launch, run);
  } catch (...) {
    launch.reset();
    response = responseForException(std::current_exception());
  }
  // Counted before the exec of an admitted application: this process then
  // becomes it.
  countDecision(*run.sink, outcomeOfAnswer(launch ? 200 : response.status, run.failed_open),
                run.arrived, run.policy_window);
  if (launch) {
    // The application's answer is the response; the limiter writes nothing
    // more unless the exec fails.
    response = becomeApplication(launch->application, launch->config, launch->header_lines,
                                 *inputs.body_kept);
  }
  drainRequestBody(inputs);
  sendResponse(response, isHeadRequest(inputs.env));
  return 0;
}

}  // namespace access_limiter
