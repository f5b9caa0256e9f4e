#include <cstdio>
#include <string>

#include "cgi_adapter.h"
#include "collect_command.h"
#include "config.h"
#include "error_integration.h"
#include "file_store.h"
#include "help_text.h"
#include "limiter.h"
#include "program_support.h"
#include "programs.h"
#include "ratelimit_headers.h"

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
    return 0;
  }
  FileStore store(config.root);
  const CommandResult result = runCollection(store, seams.clock.now(), config.root, kProgram);
  std::fputs(result.out.c_str(), stdout);
  std::fputs(result.err.c_str(), stderr);
  return result.exit_status;
}

Response decide(const CgiInputs& inputs, const LimiterSeams& seams) {
  const Config config = loadConfig(inputs.env);
  configureNotification(config.error_mail, config.mail_command);
  const std::string key = limiterKey(inputs, config.key_param);
  if (seams.after_key_read) seams.after_key_read();
  FileStore store(config.root);
  Limiter limiter(store, seams.clock, config.limit);
  try {
    const Admission admission = limiter.admit(key);
    if (!admission.collect_error.empty())
      logLine("could not collect past windows of key " + key + ": " + admission.collect_error);
    Response response = messageResponse(admission.decision.admitted ? 200 : 429);
    response.headers = rateLimitHeaders(admission.decision);
    return response;
  } catch (const StoreError& e) {
    if (!config.fail_open) throw;
    // Fail-open is the operator's choice (ACCESS_FAIL_OPEN=1): availability
    // over the limit. Still logged and mailed, since nothing is counted.
    reportServerError(std::string("store failed, admitting unlimited (ACCESS_FAIL_OPEN=1): ") +
                      e.what());
    return messageResponse(200);
  }
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
  try {
    response = decide(inputs, seams);
  } catch (...) {
    response = responseForException(std::current_exception());
  }
  drainRequestBody(inputs);
  sendResponse(response, isHeadRequest(inputs.env));
  return 0;
}

}  // namespace access_limiter
