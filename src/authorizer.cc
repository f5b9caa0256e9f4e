#include "authorizer.h"

#include <fcgiapp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "decision.h"
#include "file_store.h"
#include "http_status.h"
#include "logging.h"

namespace access_limiter {

namespace {

// The answer to a request whose store did not answer in time.
Response lateAnswer(const Config& config, const AuthorizerServer& server,
                    std::chrono::steady_clock::time_point arrived) {
  const std::string cause = storeTimeoutCause(config);
  server.metrics.count(Event::kStoreTimeout);
  countDecision(server.metrics, config.fail_open ? Outcome::kFailOpen : Outcome::kUnavailable,
                arrived);
  if (config.fail_open) {
    server.notifier.report(cause + "; admitting unlimited (ACCESS_FAIL_OPEN=1)");
    return messageResponse(200);
  }
  server.notifier.report(statusLine(503) + ": " + cause);
  return messageResponse(503);
}

// The answer to a request this authorizer already admitted: Apache asks
// again for a subrequest (DirectoryIndex) and after an internal redirect
// (ErrorDocument), with the variables of the first answer, and a redirect's
// renamed REDIRECT_NAME. Admitted, not counted twice; the RateLimit fields
// are passed on to the redirect's answer.
std::optional<Response> alreadyAdmitted(const EnvLookup& params) {
  if (params(kDecidedVariable) == nullptr &&
      params((std::string("REDIRECT_") + kDecidedVariable).c_str()) == nullptr)
    return std::nullopt;
  Response response = messageResponse(200);
  for (const char* header : {"RateLimit-Policy", "RateLimit"}) {
    const std::string name = variableNameOf(header);
    if (const char* value = params(("REDIRECT_" + name).c_str()))
      response.headers.emplace_back(header, value);
  }
  return response;
}

// Decides; `failed_open` is set when it admits uncounted.
Response decide(const EnvLookup& params, const AuthorizerServer& server,
                std::chrono::steady_clock::time_point arrived, NodeCacheMappings& node_caches,
                RequestDeadline& deadline, const std::function<void(const Response&)>& answer_late,
                bool& failed_open, Second& policy_window) {
  const Config config = [&] {
    try {
      return withLocationSettings(server.settings, params);
    } catch (const RequestSettingError& e) {
      // The value goes to the log only; the report (and mail) names the
      // setting, one cause whatever values a client sends.
      logLine(e.detail());
      throw;
    }
  }();
  CgiInputs inputs;
  inputs.env = params;
  inputs.read_body = [](char*, std::size_t) -> std::size_t { return 0; };
  const KeyOutcome key_outcome = requestKey(inputs, config.key, FrontDoor::kAuthorizer);
  if (key_outcome.refusal_status != 0)
    return messageResponse(key_outcome.refusal_status, key_outcome.refusal_detail);
  const bool bounded = config.store_timeout_ms > 0;
  if (bounded)
    deadline.arm(std::chrono::milliseconds(config.store_timeout_ms),
                 [&] { answer_late(lateAnswer(config, server, arrived)); });
  Response response;
  try {
    if (server.seams.after_key_read) server.seams.after_key_read(key_outcome.key);
    const std::unique_ptr<Store> store = server.seams.open_store
                                             ? server.seams.open_store(config.root)
                                             : std::make_unique<FileStore>(config.root);
    NodeCache& known = node_caches.forScope(config.node_cache,
                                            nodeCacheScope(config.root, config.window_seconds));
    const Verdict verdict =
        decideForKey(*store, known, server.seams.clock, key_outcome.key,
                     DecisionSettings{config.limit, config.window_seconds, config.known_keys_only,
                                      config.dry_run, config.limit_list});
    if (!verdict.limit_reached.empty()) logLine(verdict.limit_reached);
    if (!verdict.release_failure.empty()) {
      logLine(verdict.release_failure);
      server.metrics.count(Event::kStoreError);
    }
    policy_window = verdict.reported_policy_window;
    if (verdict.dry_run_changed) server.metrics.count(Event::kDryRunRefusal, policy_window);
    if (verdict.from_node_cache) server.metrics.count(Event::kNodeCacheHit, policy_window);
    response = messageResponse(verdict.admitted ? 200 : verdict.refused_status,
                               verdict.refusal_detail);
    response.headers = verdict.headers;
    response.violated_policies = verdict.violated_policies;
  } catch (const StoreError& e) {
    if (bounded) deadline.disarm();
    server.metrics.count(Event::kStoreError);
    if (!config.fail_open) throw;
    failed_open = true;
    server.notifier.report(
        std::string("store failed, admitting unlimited (ACCESS_FAIL_OPEN=1): ") + e.what());
    return messageResponse(200);
  } catch (...) {
    if (bounded) deadline.disarm();
    throw;
  }
  if (bounded) deadline.disarm();
  return response;
}

// The request's parameters, as the CGI reads its environment.
EnvLookup parametersOf(const FCGX_Request& request) {
  FCGX_ParamArray envp = request.envp;
  return [envp](const char* name) -> const char* { return FCGX_GetParam(name, envp); };
}

// The next connection, or -1 once the worker is to stop.
// How long a connection may stay silent (or not read its answer), in seconds.
constexpr time_t kClientSilenceSeconds = 2;

int acceptConnection(int listen_fd, const WorkerLease& lease, const sigset_t& waiting_mask) {
  for (;;) {
    if (lease.stopRequested()) return -1;
    pollfd listening{listen_fd, POLLIN, 0};
    if (ppoll(&listening, 1, nullptr, &waiting_mask) < 0) continue;  // EINTR: a stop, perhaps
    const int connection = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection >= 0) {
      // Answers are small and written in pieces: no Nagle delay.
      const int on = 1;
      setsockopt(connection, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      // Apache sends a request's parameters at once. A client that sends
      // nothing, or stops halfway, holds this worker this long at most,
      // then is closed without an answer; a client that reads no answer,
      // the same. Well under the stuck-worker ceiling (the store timeout +
      // 5 s), which would otherwise kill the worker and mail about it.
      const timeval io_timeout{kClientSilenceSeconds, 0};
      setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &io_timeout, sizeof io_timeout);
      setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &io_timeout, sizeof io_timeout);
      return connection;
    }
    // EAGAIN: another worker took it. Out of descriptors or memory: wait a
    // little rather than spin.
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
      usleep(10000);
  }
}

void answer(FCGX_Request& request, const Response& response) {
  const std::string text = renderAuthorizerAnswer(response);
  FCGX_PutStr(text.data(), static_cast<int>(text.size()), request.out);
}

}  // namespace

std::string variableNameOf(const std::string& header) {
  std::string name;
  for (char c : header)
    name += c == '-' ? '_' : (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return name;
}

NodeCache& NodeCacheMappings::forScope(const std::string& path, const std::string& scope) {
  auto found = by_scope_.find(scope);
  if (found != by_scope_.end()) return *found->second;
  if (by_scope_.size() >= kMaxScopes) by_scope_.clear();
  return *by_scope_.emplace(scope, openNodeCacheOrNone(path, scope)).first->second;
}

Response decideAuthorization(const EnvLookup& params, const AuthorizerServer& server,
                             std::chrono::steady_clock::time_point arrived,
                             NodeCacheMappings& node_caches, RequestDeadline& deadline,
                             const std::function<void(const Response&)>& answer_late) {
  if (std::optional<Response> repeated = alreadyAdmitted(params)) return *repeated;
  const auto report = [&server](std::string_view message) { server.notifier.report(message); };
  bool failed_open = false;
  Second policy_window = 0;  // Verdict::reported_policy_window
  Response response;
  try {
    response = decide(params, server, arrived, node_caches, deadline, answer_late, failed_open,
                      policy_window);
  } catch (...) {
    response = responseForException(std::current_exception(), report);
  }
  countDecision(server.metrics, outcomeOfAnswer(response.status, failed_open), arrived,
                policy_window);
  return response;
}

std::string renderAuthorizerAnswer(const Response& response) {
  if (response.status != 200) {
    Response refusal = response;
    refusal.headers.emplace_back(kRefusalHeader, std::to_string(response.status));
    return renderCgi(refusal, false);
  }
  std::string text = "Status: " + statusLine(200) + "\r\n";
  text += std::string("Variable-") + kDecidedVariable + ": 1\r\n";
  for (const auto& [name, value] : response.headers)
    text += "Variable-" + variableNameOf(name) + ": " + value + "\r\n";
  return text + "\r\n";
}

void serveAuthorizer(int listen_fd, WorkerLease& lease, const AuthorizerServer& server) {
  // SIGTERM (worker_pool.h: stop after this request) is let in only while
  // waiting for a connection, so it never cuts a request short; the
  // deadline's thread, started below, inherits the block.
  sigset_t stop_signal;
  sigemptyset(&stop_signal);
  sigaddset(&stop_signal, SIGTERM);
  sigset_t waiting_mask;
  pthread_sigmask(SIG_BLOCK, &stop_signal, &waiting_mask);
  sigdelset(&waiting_mask, SIGTERM);
  // Every worker wakes for a connection and one takes it; the others must
  // not then block in accept, where a stop could not reach them.
  fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
  FCGX_Init();
  FCGX_Request request;
  // No listening socket for libfcgi: each connection is handed to it
  // (below), and one it cannot read then fails FCGX_Accept_r at once
  // instead of making libfcgi accept the next connection itself, outside
  // this loop's stop and timeout handling.
  FCGX_InitRequest(&request, -1, 0);
  RequestDeadline deadline;
  NodeCacheMappings node_caches;
  const auto answer_late = [&](const Response& response) {
    // The deadline's thread: the request's own is held by the store.
    answer(request, response);
    FCGX_Finish_r(&request);
    lease.abandon();
    _exit(0);
  };
  for (;;) {
    const int connection = acceptConnection(listen_fd, lease, waiting_mask);
    if (connection < 0) return;
    lease.beginRequest();
    const auto arrived = std::chrono::steady_clock::now();
    // A client that connects and sends nothing is closed here, at once and
    // quietly (libfcgi's close of a connection it failed to read lingers).
    pollfd readable{connection, POLLIN, 0};
    if (poll(&readable, 1, kClientSilenceSeconds * 1000) <= 0) {
      close(connection);
      lease.endRequest();
      continue;
    }
    // libfcgi reads the request from a connection already open (as it does
    // for a kept one) when it is handed one this way.
    request.ipcFd = connection;
    request.keepConnection = 1;
    if (FCGX_Accept_r(&request) >= 0) {
      answer(request, decideAuthorization(parametersOf(request), server, arrived, node_caches,
                                          deadline, answer_late));
      FCGX_Finish_r(&request);
    }
    // One request per connection, as mod_authnz_fcgi sends them: one a
    // client asked to keep is closed all the same.
    if (request.ipcFd >= 0) {
      close(request.ipcFd);
      request.ipcFd = -1;
    }
    lease.endRequest();
  }
}

}  // namespace access_limiter
