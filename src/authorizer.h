#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "cgi_adapter.h"
#include "clock.h"
#include "config.h"
#include "mail_notification.h"
#include "metrics.h"
#include "node_cache.h"
#include "request_deadline.h"
#include "store.h"
#include "worker_pool.h"

namespace access_limiter {

// The limiter's third front door: a persistent FastCGI Authorizer (the
// FastCGI specification, section 6.3), for Apache's mod_authnz_fcgi. The
// web server sends a request's variables and no body; a 200 lets the request
// go on to whatever serves the location (php-fpm, a proxied app, files),
// with Variable-NAME headers that become its environment; any other answer
// goes to the client as it is. The decision is decision.h's, with the same
// store, node cache, policies, key sources and settings as the CGI's.

// What a test main may replace; the shipped main passes the real clock and
// no hook (programs.h LimiterSeams).
struct AuthorizerSeams {
  const Clock& clock;
  // Called once per request, with its key, once that is known.
  std::function<void(const std::string& key)> after_key_read;
  // Opens the store at ACCESS_ROOT for one request; when empty, a FileStore.
  std::function<std::unique_ptr<Store>(const std::string& root)> open_store;
};

// The settings and the notifier of a running authorizer: read once, at its
// start, from its environment or --settings, and never changed by a
// request. A request may set only the request_may_set settings (config.h).
struct AuthorizerServer {
  Config settings;
  const ErrorNotifier& notifier;
  // The node's counters (ACCESS_METRICS), mapped once for every worker.
  Metrics& metrics;
  AuthorizerSeams seams;
};

// Every admission sets this variable (value 1) for the rest of the request:
// a subrequest's or an internal redirect's second question (carrying it, or
// REDIRECT_ and it) is admitted without being counted again. A client
// cannot set a variable by this name (its headers become HTTP_*).
inline constexpr char kDecidedVariable[] = "ACCESS_LIMITER_DECIDED";

// Every refusal carries this header (its value the status): Apache gives a
// refusal's body the type text/html, and the drop-in
// (apache/access-limiter-protect.conf) sets the JSON type back on the
// answers that carry it. The client sees it too.
inline constexpr char kRefusalHeader[] = "Access-Limiter-Refusal";

// The environment variable a response header becomes for the application:
// RateLimit-Policy -> RATELIMIT_POLICY.
std::string variableNameOf(const std::string& header);

// A worker's node-cache mappings, one per scope (nodeCacheScope: the store
// and a window length) its requests used, mapped once rather than per
// request. They hold no request's state: the facts are the shared file's.
class NodeCacheMappings {
 public:
  // The cache for `scope` at `path` (a NoNodeCache when `path` is empty or
  // unusable, as openNodeCacheOrNone decides).
  NodeCache& forScope(const std::string& path, const std::string& scope);

 private:
  // Window lengths are few (one per location that sets one); past this
  // many, the mappings start over.
  static constexpr std::size_t kMaxScopes = 16;
  std::map<std::string, std::unique_ptr<NodeCache>> by_scope_;
};

// Decides one request from its FastCGI parameters. A store that does not
// answer within ACCESS_STORE_TIMEOUT makes `deadline` call `answer_late`
// (503, or 200 failing open) from its own thread, and the process then
// ends. Never throws: a failure is its answer (cgi_adapter.h).
// Counts the decision in server.metrics, its time from `arrived` (a
// request admitted before, asking again, is not counted twice).
Response decideAuthorization(const EnvLookup& params, const AuthorizerServer& server,
                             std::chrono::steady_clock::time_point arrived,
                             NodeCacheMappings& node_caches, RequestDeadline& deadline,
                             const std::function<void(const Response&)>& answer_late);

// The FastCGI answer's text: an admission is "Status: 200 OK", the
// kDecidedVariable line and a Variable- line per header of `response`
// (nothing else: any other header would reach the client of the
// application's answer); a refusal is the CGI's answer, JSON body and all,
// with kRefusalHeader.
std::string renderAuthorizerAnswer(const Response& response);

// A worker's life: answers requests on `listen_fd` until its lease asks it
// to stop.
void serveAuthorizer(int listen_fd, WorkerLease& lease, const AuthorizerServer& server);

}  // namespace access_limiter
