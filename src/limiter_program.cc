#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <variant>
#include <string>
#include <vector>

#include "application.h"
#include "cgi_adapter.h"
#include "collect_command.h"
#include "config.h"
#include "decision.h"
#include "error_integration.h"
#include "file_store.h"
#include "help_text.h"
#include "key_command.h"
#include "http_status.h"
#include "node_cache.h"
#include "program_support.h"
#include "programs.h"
#include "settings_file.h"
#include "watchdog.h"

namespace access_limiter {

namespace {

const char kProgram[] = "access-limiter";

// What the node cache's facts are about: counters of one store, in windows
// of one length.
std::string nodeCacheScope(const Config& config) {
  return config.root + "\n" + std::to_string(config.window_seconds);
}

// The node's cache, or none: an unusable cache costs speed, never an answer
// (--check-config says why it is unusable).
std::unique_ptr<NodeCache> openNodeCache(const Config& config) {
  if (!config.node_cache.empty()) {
    try {
      return std::make_unique<SharedNodeCache>(config.node_cache, nodeCacheScope(config));
    } catch (const NodeCacheError&) {
    }
  }
  return std::make_unique<NoNodeCache>();
}

// Why an operator's command about one key must not run here and now, or "":
// the store must exist (a missing one is a typo, or a volume not mounted),
// and what --key add makes, the web server must be able to write beside, so
// `adding` runs as the store's owner.
std::string whyNotHere(const std::string& root, bool adding) {
  struct stat root_status {};
  if (stat(root.c_str(), &root_status) != 0)
    return "ACCESS_ROOT " + root + ": " + std::strerror(errno) +
           " (a typo, or the volume is not mounted?)";
  // By uid: a static program cannot look names up (NSS needs shared libraries).
  if (adding && root_status.st_uid != geteuid())
    return root + " belongs to uid " + std::to_string(root_status.st_uid) +
           ": run --key add as that user (for www-data: sudo -u www-data " + kProgram +
           " --key ...), or the web server could not count the key";
  return "";
}

// --check-config, --gc, --status and --key, from a shell.
// `settings_path`: the file given with --settings, or "" for none.
int runOperatorCommand(Command command, int argc, char** argv, const std::string& settings_path,
                       const LimiterSeams& seams) {
  // The words first: a bad command line exits 2 whatever the environment.
  std::optional<KeyCommand> keys;
  if (command == Command::kKeys) {
    auto parsed = parseKeyCommand(std::vector<std::string>(argv + 2, argv + argc), kProgram);
    if (auto* usage = std::get_if<CommandResult>(&parsed)) {
      std::fputs(usage->err.c_str(), stderr);
      return usage->exit_status;
    }
    keys = std::get<KeyCommand>(parsed);
    if (keys->action == KeyCommand::Action::kHelp) {
      std::fputs(keyCommandHelp(kProgram).c_str(), stdout);
      return 0;
    }
  }
  Config config;
  try {
    config = loadConfig(settings_path.empty()
                            ? processEnv()
                            : settingsLookup(readSettingsFile(settings_path)));
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "%s: %s\n", kProgram, e.what());
    return 1;
  }
  if (command == Command::kCheckConfig) {
    std::fputs(describeConfig(config).c_str(), stdout);
    if (!config.node_cache.empty()) {
      try {
        SharedNodeCache check(config.node_cache, nodeCacheScope(config));
      } catch (const NodeCacheError& e) {
        std::fprintf(stderr, "%s: ACCESS_NODE_CACHE unusable, deciding without it (slower): %s\n",
                     kProgram, e.what());
      }
    }
    return 0;
  }
  // The key a command names, as the store keeps it.
  std::optional<std::string> key;
  if (keys && keys->action != KeyCommand::Action::kList) {
    KeySource source = config.key;
    if (keys->header) source.kind = KeySource::Kind::kHeader;
    key = storedKeyOf(keys->key, source);
    if (!key) {
      // A credential is not repeated, even refused.
      const std::string shown =
          source.kind == KeySource::Kind::kHeader ? "(the value given)" : "'" + keys->key + "'";
      std::fprintf(stderr, "%s: --key %s %s: %s; see %s --key --help\n", kProgram,
                   keys->action == KeyCommand::Action::kAdd ? "add" : "remove", shown.c_str(),
                   keyWordRule(source).c_str(), kProgram);
      return 2;
    }
    keys->key = *key;
  } else if (command == Command::kStatus && argc > 2) {
    key = storedKeyOf(argv[2], config.key);
    if (!key) {
      std::fprintf(stderr, "%s: --status '%s': %s\n", kProgram, argv[2],
                   keyWordRule(config.key).c_str());
      return 2;
    }
  }
  // A command about a store that is not there would report every key as
  // unregistered or idle: a typo or an unmounted volume must say so instead.
  // (--gc and --key list find out by listing the root.)
  const bool names_a_key = (keys && keys->action != KeyCommand::Action::kList) ||
                           (command == Command::kStatus && argc > 2);
  if (names_a_key) {
    if (const std::string problem =
            whyNotHere(config.root, keys && keys->action == KeyCommand::Action::kAdd);
        !problem.empty()) {
      std::fprintf(stderr, "%s: %s\n", kProgram, problem.c_str());
      return 1;
    }
  }
  FileStore store(config.root);
  CommandResult result;
  if (keys) {
    result = runKeyCommand(store, *keys, kProgram);
  } else if (command == Command::kStatus) {
    result = runStatus(store, seams.clock.now(), {config.limit, config.window_seconds}, key,
                       kProgram);
  } else {
    result = runCollection(store, seams.clock.now(), config.root, kProgram);
  }
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
  const KeyOutcome key_outcome = requestKey(inputs, config.key, guarding);
  if (key_outcome.refusal_status != 0)
    return messageResponse(key_outcome.refusal_status, key_outcome.refusal_detail);
  const std::string& key = key_outcome.key;
  std::optional<Application> application;
  if (guarding) application = findApplication(inputs.env, config);
  HeaderList headers;
  bool admitted = false;
  int refused_status = 0;
  std::string refusal_detail;
  {
    std::optional<Watchdog> watchdog;
    if (config.store_timeout_ms > 0)
      watchdog.emplace(std::chrono::milliseconds(config.store_timeout_ms),
                       [&] { answerStoreTimeout(inputs, config, application); });
    if (seams.after_key_read) seams.after_key_read();
    FileStore store(config.root);
    try {
      const std::unique_ptr<NodeCache> known = openNodeCache(config);
      const Verdict verdict =
          decideForKey(store, *known, seams.clock, key,
                       DecisionSettings{config.limit, config.window_seconds,
                                        config.known_keys_only, config.dry_run});
      if (!verdict.limit_reached.empty()) logLine(verdict.limit_reached);
      admitted = verdict.admitted;
      headers = verdict.headers;
      refused_status = verdict.refused_status;
      refusal_detail = verdict.refusal_detail;
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
  Response response = messageResponse(admitted ? 200 : refused_status, refusal_detail);
  response.headers = headers;
  return response;
}

}  // namespace

int runLimiter(int argc, char** argv, const LimiterSeams& seams) {
  // "--settings FILE" ahead of an operator command: the settings Apache
  // reads (settings_file.h). Arguments of a web server's run are never read.
  std::string settings_path;
  if (!runByWebServer(processEnv()) && argc >= 2 && std::strcmp(argv[1], "--settings") == 0) {
    if (argc < 3 || argv[2][0] == '\0') {
      std::fprintf(stderr, "%s: --settings needs a file; see --help\n", kProgram);
      return 2;
    }
    settings_path = argv[2];
    // The rest of the command line, as if it had been given alone.
    argv[2] = argv[0];
    argv += 2;
    argc -= 2;
  }
  const Command command = commandOf(argc, argv, true);
  if (command == Command::kCheckConfig || command == Command::kCollect ||
      command == Command::kStatus || command == Command::kKeys)
    return runOperatorCommand(command, argc, argv, settings_path, seams);
  if (!settings_path.empty()) {
    std::fprintf(stderr,
                 "%s: --settings FILE goes before --check-config, --gc, --status or --key; "
                 "see --help\n",
                 kProgram);
    return 2;
  }
  if (command != Command::kServe)
    return answerInformationalCommand(command, kProgram, limiterHelp());

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
