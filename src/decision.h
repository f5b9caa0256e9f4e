#pragma once

#include <string>
#include <utility>
#include <vector>

#include "clock.h"
#include "node_cache.h"
#include "ratelimit_headers.h"
#include "store.h"

namespace access_limiter {

// The rule for one key's request, shared by every front door (the CGI
// endpoint, the CGI guard, and a persistent one): the key's policy, known
// keys only, the count against its limit, and what a dry run answers. It
// depends only on (now, the settings, the store's and the node cache's
// state); it logs nothing, and names an HTTP status but renders no answer.
// Store failures are the caller's: StoreError passes through.

// The settings a decision reads, of the request's location.
struct DecisionSettings {
  DecisionSettings() = default;
  DecisionSettings(int plain_limit, Second window, bool known_only, bool dry, LimitList list = {})
      : limit(plain_limit), window_seconds(window), known_keys_only(known_only), dry_run(dry),
        limit_list(std::move(list)) {}

  int limit = 10;                 // ACCESS_LIMIT: admissions per window, for a key without its own
  Second window_seconds = 1;      // ACCESS_WINDOW
  bool known_keys_only = false;   // ACCESS_KNOWN_KEYS_ONLY: a key without a policy is refused (401)
  bool dry_run = false;           // ACCESS_DRY_RUN: counted, but everything admitted
  LimitList limit_list;           // ACCESS_LIMIT as a list; empty when it is a plain N (`limit`)

  // The location's limits: the list, or `limit` per `window_seconds`.
  LimitList limits() const {
    return limit_list.empty() ? LimitList{LimitRule{limit, window_seconds, true}} : limit_list;
  }
};

// Dry run: every answer carries this header with the status enforcing
// would have given (200, or the refusal's).
inline constexpr char kDryRunHeader[] = "Access-Limiter-Dry-Run";

struct Verdict {
  bool admitted = false;
  // When not admitted: 401 an unknown key (known keys only), 403 a blocked
  // key, 429 over its limit.
  int refused_status = 0;
  std::string refusal_detail;  // for 401 and 403: names the key and why
  // The RateLimit fields of a counted decision (with Retry-After on a 429),
  // and kDryRunHeader in a dry run. None for a key never counted.
  HeaderList headers;
  // "key K reached its limit ...", for the request that took the window's
  // last slot: once per key per window across the cluster. Empty otherwise.
  std::string limit_reached;
  // A dry run admitted what enforcing would have refused.
  bool dry_run_changed = false;
  // For a 429: the names of the limits that were full (policyName). Empty
  // when the key's limit is a plain N: its answer keeps the seed's JSON.
  std::vector<std::string> violated_policies;
  // The window of the policy RateLimit reports (the closest to exhaustion;
  // on a 429, a full one), for the metrics' policy label; 0 for "default"
  // (a plain limit, or a decision that was not counted).
  Second reported_policy_window = 0;
  // Refused without a store call: the node cache knew the answer.
  bool from_node_cache = false;
  // For the log: claims a refused request could not give back (the store
  // failed), each leaving its window one admission short. The answer is
  // the refusal all the same.
  std::string release_failure;
};

// Decides a request for `key`. Reads the key's policy through `known` (at
// most once a second per node, NodeCache::recallPolicy), then counts it
// with a Limiter.
Verdict decideForKey(Store& store, NodeCache& known, const Clock& clock, const std::string& key,
                     const DecisionSettings& settings);

}  // namespace access_limiter
