#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include "cgi_adapter.h"
#include "config.h"
#include "file_store.h"
#include "help_text.h"
#include "http_status.h"
#include "logging.h"
#include "mail_notification.h"
#include "metrics.h"
#include "program_support.h"
#include "programs.h"
#include "watchdog.h"

namespace access_limiter {

namespace {

const char kProgram[] = "access-health";

Response unavailable(const std::string& reason) {
  Response response;
  response.status = 503;
  response.fields.emplace_back("status", "unavailable");
  response.fields.emplace_back("message", "Service Unavailable");
  response.fields.emplace_back("reason", reason);
  return response;
}

// The node's metrics in Prometheus' text format (GET ?metrics).
Response metricsResponse(const Config& config) {
  if (config.node_cache.empty())
    throw HttpError(404, "no metrics here: they are kept in the node cache (ACCESS_NODE_CACHE=off)");
  Response response;
  try {
    response.text = scrapeNodeCounters(config.node_cache);
  } catch (const NodeCacheError& e) {
    logLine(std::string("metrics unavailable: ") + e.what());
    return unavailable("ACCESS_NODE_CACHE, which holds the metrics, cannot be used");
  }
  response.text_type = "text/plain; version=0.0.4; charset=utf-8";
  return response;
}

Response check(const EnvLookup& env) {
  requireReadOnlyMethod(env);
  const Config config = loadConfig(env);
  configureNotification(config.error_mail, config.mail_command, config.mail_interval_seconds,
                        config.root);
  // "metrics=" too: what Prometheus sends for params {metrics: [""]}.
  if (const char* query = env("QUERY_STRING");
      query != nullptr && (std::strcmp(query, "metrics") == 0 || std::strcmp(query, "metrics=") == 0))
    return metricsResponse(config);
  Response response;
  try {
    std::optional<Watchdog> watchdog;
    if (config.store_timeout_ms > 0)
      watchdog.emplace(std::chrono::milliseconds(config.store_timeout_ms), [&] {
        logLine("health check failed: ACCESS_ROOT did not answer within " +
                describeSeconds(config.store_timeout_ms) + " s");
        sendResponse(unavailable("ACCESS_ROOT did not answer within " +
                                 describeSeconds(config.store_timeout_ms) + " s"),
                     isHeadRequest(env));
      });
    FileStore(config.root).probe();
    if (watchdog) watchdog->disarm();
    response.status = 200;
    response.fields.emplace_back("status", "ok");
  } catch (const StoreError& e) {
    // Logged, not mailed: the load balancer polls every few seconds.
    logLine(std::string("health check failed: ") + e.what());
    response = unavailable(std::string("ACCESS_ROOT is not writable: ") +
                           std::strerror(e.errorNumber()));
  }
  return response;
}

}  // namespace

int runHealth(int argc, char** argv) {
  const Command command = commandOf(argc, argv, false);
  if (command != Command::kServe) return answerInformationalCommand(command, kProgram, healthHelp());

  prepareCgiRun(kProgram);
  const CgiInputs inputs = processInputs();
  Response response;
  try {
    response = check(inputs.env);
  } catch (...) {
    response = responseForException(std::current_exception());
  }
  drainRequestBody(inputs);
  sendResponse(response, isHeadRequest(inputs.env));
  return 0;
}

}  // namespace access_limiter
