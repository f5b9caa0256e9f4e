#include "authorizer_program.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "config.h"
#include "listen_socket.h"
#include "logging.h"
#include "mail_limiter.h"
#include "program_support.h"
#include "settings_file.h"
#include "worker_pool.h"

namespace access_limiter {

namespace {

const char kProgram[] = "access-limiter";

// More workers than this is a typo: each holds a connection and a thread.
constexpr int kMaxWorkers = 256;

// A worker busy this much longer than ACCESS_STORE_TIMEOUT is stuck
// somewhere the store's deadline cannot reach, and is replaced.
constexpr int kStuckMarginMs = 5000;
// The bound on a request when ACCESS_STORE_TIMEOUT=0 (no store deadline).
constexpr int kUnboundedRequestCeilingMs = 30000;

struct Invocation {
  std::string settings_path;  // "" for the environment
  std::string address;        // "" for the inherited socket
  int workers = 0;            // 0: the default
};

int usage(const std::string& problem) {
  std::fprintf(stderr, "%s: %s; see --help\n", kProgram, problem.c_str());
  return 2;
}

int defaultWorkers() {
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores < 1 ? 1 : static_cast<int>(std::min<long>(cores, kMaxWorkers));
}

int serve(const Invocation& invocation, const AuthorizerSeams& seams) {
  Config settings;
  try {
    settings = loadConfig(invocation.settings_path.empty()
                              ? processEnv()
                              : settingsLookup(readSettingsFile(invocation.settings_path)));
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "%s: %s\n", kProgram, e.what());
    return 1;
  }
  int listen_fd = -1;
  std::string where = invocation.address;
  try {
    if (invocation.address.empty()) {
      listen_fd = inheritedListenSocket();
      if (listen_fd < 0) {
        std::fprintf(stderr,
                     "%s: --fastcgi without an ADDRESS serves the listening socket it was "
                     "started with (from systemd, or on descriptor 0), and there is none; "
                     "give 127.0.0.1:PORT or a socket path\n",
                     kProgram);
        return 1;
      }
      where = listen_fd == 0 ? "the socket on descriptor 0" : "the socket from systemd";
    } else {
      listen_fd = openListenSocket(invocation.address);
    }
  } catch (const ListenError& e) {
    std::fprintf(stderr, "%s: %s\n", kProgram, e.what());
    return 1;
  }
  // A client that hangs up before its answer is written must not end a
  // worker: the write fails instead.
  signal(SIGPIPE, SIG_IGN);
  const SystemClock wall;
  // The node cache's counters, mapped here and shared by the workers forked
  // below.
  const std::unique_ptr<NodeCache> counters_cache = openNodeCacheOrNone(
      settings.node_cache, nodeCacheScope(settings.root, settings.window_seconds));
  const std::unique_ptr<Metrics> metrics = metricsOf(*counters_cache, settings.metrics);
  const ErrorNotifier notifier(NotificationSettings{settings.error_mail, settings.mail_command,
                                                    settings.mail_interval_seconds, settings.root},
                               wall, defaultMailDirectories(), metrics.get());
  const AuthorizerServer server{settings, notifier, *metrics, seams};
  WorkerPoolSettings pool;
  pool.workers = invocation.workers > 0 ? invocation.workers : defaultWorkers();
  pool.request_ceiling = std::chrono::milliseconds(
      (settings.store_timeout_ms > 0 ? settings.store_timeout_ms : kUnboundedRequestCeilingMs) +
      kStuckMarginMs);
  logLine("FastCGI authorizer on " + where + ", " + std::to_string(pool.workers) +
          (pool.workers == 1 ? " worker" : " workers") + ", ACCESS_ROOT " + settings.root);
  const int status = runWorkerPool(
      pool, [&](WorkerLease& lease) { serveAuthorizer(listen_fd, lease, server); },
      [&](std::string_view message) { notifier.report(message); });
  logLine("FastCGI authorizer stopped");
  return status;
}

// Parses what follows --fastcgi.
int parseAndServe(int argc, char** argv, int at, Invocation invocation,
                  const AuthorizerSeams& seams) {
  if (at < argc && argv[at][0] != '-') invocation.address = argv[at++];
  while (at < argc) {
    const std::string word = argv[at++];
    if (word == "--workers") {
      if (at >= argc) return usage("--workers needs a number");
      const std::string count = argv[at++];
      char* end = nullptr;
      const long workers = std::strtol(count.c_str(), &end, 10);
      if (count.empty() || *end != '\0' || workers < 1 || workers > kMaxWorkers ||
          count[0] == '0')
        return usage("--workers '" + count + "': a number from 1 to " +
                     std::to_string(kMaxWorkers));
      invocation.workers = static_cast<int>(workers);
    } else {
      return usage("--fastcgi takes [ADDRESS] [--workers N], not '" + word + "'");
    }
  }
  return serve(invocation, seams);
}

}  // namespace

std::optional<int> runAuthorizerCommandLine(int argc, char** argv, const AuthorizerSeams& seams) {
  if (argc == 1) {
    // Started as mod_fcgid and spawn-fcgi start a FastCGI program.
    if (!isListeningSocket(0)) return std::nullopt;
    Invocation invocation;
    invocation.workers = 1;
    return serve(invocation, seams);
  }
  // Arguments of a web server's run are never read.
  if (runByWebServer(processEnv())) return std::nullopt;
  Invocation invocation;
  int at = 1;
  if (std::strcmp(argv[1], "--settings") == 0) {
    if (argc < 4 || std::strcmp(argv[3], "--fastcgi") != 0) return std::nullopt;
    if (argv[2][0] == '\0') return usage("--settings needs a file");
    invocation.settings_path = argv[2];
    at = 3;
  }
  if (std::strcmp(argv[at], "--fastcgi") != 0) return std::nullopt;
  return parseAndServe(argc, argv, at + 1, invocation, seams);
}

}  // namespace access_limiter
