#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "limit_list.h"

namespace access_limiter {

// What the operator registered for one key (`access-limiter --key add`).
// A key with no policy is unregistered: it gets ACCESS_LIMIT, or a 401 under
// ACCESS_KNOWN_KEYS_ONLY=1.
struct KeyPolicy {
  enum class Kind {
    kLimit,      // counted against `limit`
    kUnlimited,  // never counted, always admitted
    kBlocked,    // always refused (403), never counted
  };
  KeyPolicy() = default;
  KeyPolicy(Kind policy_kind, int own_limit, LimitList own_limits = {})
      : kind(policy_kind), limit(own_limit), limits(std::move(own_limits)) {}

  Kind kind = Kind::kLimit;
  // kLimit: requests per window; 0 = the location's ACCESS_LIMIT (a key that
  // is registered, with no limit of its own), or `limits`.
  int limit = 0;
  // kLimit: a list of limits of its own ("10/1s,1000/1h"), which replaces
  // the location's limits (limit is 0 then). Empty otherwise.
  LimitList limits;

  bool operator==(const KeyPolicy& other) const {
    return kind == other.kind && limit == other.limit && limits == other.limits;
  }
};

// The stored form: "limit=25", "limit=10/1s,1000/1h", "limit=default",
// "unlimited" or "blocked".
std::string formatPolicy(const KeyPolicy& policy);

// The inverse of formatPolicy; none for anything else (a limit out of
// 1..kMaxLimit included).
std::optional<KeyPolicy> parsePolicy(std::string_view text);

// The limits a key is counted against: its own list, or its own N per
// `window_seconds` (ACCESS_WINDOW), or else `location`'s (ACCESS_LIMIT).
LimitList effectiveLimits(const std::optional<KeyPolicy>& policy, const LimitList& location,
                          Second window_seconds);

}  // namespace access_limiter
