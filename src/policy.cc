#include "policy.h"

#include "bounds.h"

namespace access_limiter {

std::string formatPolicy(const KeyPolicy& policy) {
  switch (policy.kind) {
    case KeyPolicy::Kind::kUnlimited:
      return "unlimited";
    case KeyPolicy::Kind::kBlocked:
      return "blocked";
    case KeyPolicy::Kind::kLimit:
      break;
  }
  return policy.limit > 0 ? "limit=" + std::to_string(policy.limit) : "limit=default";
}

std::optional<KeyPolicy> parsePolicy(std::string_view text) {
  if (text == "unlimited") return KeyPolicy{KeyPolicy::Kind::kUnlimited, 0};
  if (text == "blocked") return KeyPolicy{KeyPolicy::Kind::kBlocked, 0};
  if (text == "limit=default") return KeyPolicy{KeyPolicy::Kind::kLimit, 0};
  constexpr std::string_view kLimitPrefix = "limit=";
  if (text.substr(0, kLimitPrefix.size()) != kLimitPrefix) return std::nullopt;
  const std::optional<int> limit = parseLimit(text.substr(kLimitPrefix.size()));
  if (!limit) return std::nullopt;
  return KeyPolicy{KeyPolicy::Kind::kLimit, *limit};
}

int effectiveLimit(const KeyPolicy& policy, int default_limit) {
  return policy.kind == KeyPolicy::Kind::kLimit && policy.limit > 0 ? policy.limit : default_limit;
}

}  // namespace access_limiter
