#pragma once

#include <optional>
#include <string>
#include <string_view>

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
  Kind kind = Kind::kLimit;
  // kLimit: requests per window; 0 = the location's ACCESS_LIMIT (a key that
  // is registered, with no limit of its own).
  int limit = 0;

  bool operator==(const KeyPolicy& other) const {
    return kind == other.kind && limit == other.limit;
  }
};

// The stored form: "limit=25", "limit=default", "unlimited" or "blocked".
std::string formatPolicy(const KeyPolicy& policy);

// The inverse of formatPolicy; none for anything else (a limit out of
// 1..kMaxLimit included).
std::optional<KeyPolicy> parsePolicy(std::string_view text);

// The requests per window a key gets: its own limit, or `default_limit`.
int effectiveLimit(const KeyPolicy& policy, int default_limit);

}  // namespace access_limiter
