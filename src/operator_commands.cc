#include "operator_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "collect_command.h"
#include "command_line.h"
#include "config.h"
#include "file_store.h"
#include "key_command.h"
#include "metrics.h"
#include "node_cache.h"
#include "program_support.h"
#include "settings_file.h"

namespace access_limiter {

namespace {

const char kProgram[] = "access-limiter";

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

// `settings_path`: the file given with --settings, or "" for none.
int runOperatorCommand(Command command, int argc, char** argv, const std::string& settings_path,
                       const Clock& clock) {
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
  if (command == Command::kMetrics) {
    if (config.node_cache.empty()) {
      std::fprintf(stderr,
                   "%s: --metrics: the metrics are kept in the node cache, and ACCESS_NODE_CACHE "
                   "is off\n",
                   kProgram);
      return 1;
    }
    try {
      std::fputs(scrapeNodeCounters(config.node_cache).c_str(), stdout);
    } catch (const NodeCacheError& e) {
      std::fprintf(stderr, "%s: --metrics: ACCESS_NODE_CACHE unusable: %s\n", kProgram, e.what());
      return 1;
    }
    return 0;
  }
  if (command == Command::kCheckConfig) {
    std::fputs(describeConfig(config).c_str(), stdout);
    if (!config.node_cache.empty()) {
      try {
        SharedNodeCache check(config.node_cache, nodeCacheScope(config.root, config.window_seconds));
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
    result = runStatus(store, clock.now(), {config.limit, config.window_seconds, config.limit_list}, key,
                       kProgram);
  } else {
    result = runCollection(store, clock.now(), config.root, kProgram);
  }
  std::fputs(result.out.c_str(), stdout);
  std::fputs(result.err.c_str(), stderr);
  return result.exit_status;
}

}  // namespace

std::optional<int> runOperatorCommandLine(int argc, char** argv, const Clock& clock) {
  // Arguments of a web server's run are never read.
  if (runByWebServer(processEnv())) return std::nullopt;
  // "--settings FILE" ahead of a command: the settings Apache reads
  // (settings_file.h).
  std::string settings_path;
  if (argc >= 2 && std::strcmp(argv[1], "--settings") == 0) {
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
      command == Command::kStatus || command == Command::kKeys || command == Command::kMetrics)
    return runOperatorCommand(command, argc, argv, settings_path, clock);
  if (!settings_path.empty()) {
    std::fprintf(stderr,
                 "%s: --settings FILE goes before --check-config, --gc, --status, --metrics, --key or "
                 "--fastcgi; "
                 "see --help\n",
                 kProgram);
    return 2;
  }
  return std::nullopt;
}

}  // namespace access_limiter
