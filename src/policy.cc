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
  if (!policy.limits.empty()) return "limit=" + formatLimitList(policy.limits);
  return policy.limit > 0 ? "limit=" + std::to_string(policy.limit) : "limit=default";
}

std::optional<KeyPolicy> parsePolicy(std::string_view text) {
  if (text == "unlimited") return KeyPolicy{KeyPolicy::Kind::kUnlimited, 0};
  if (text == "blocked") return KeyPolicy{KeyPolicy::Kind::kBlocked, 0};
  if (text == "limit=default") return KeyPolicy{KeyPolicy::Kind::kLimit, 0};
  constexpr std::string_view kLimitPrefix = "limit=";
  if (text.substr(0, kLimitPrefix.size()) != kLimitPrefix) return std::nullopt;
  const std::string_view value = text.substr(kLimitPrefix.size());
  if (value.find('/') != std::string_view::npos) {
    std::string problem;
    std::optional<LimitList> limits = parseLimitList(value, problem);
    if (!limits) return std::nullopt;
    return KeyPolicy{KeyPolicy::Kind::kLimit, 0, std::move(*limits)};
  }
  const std::optional<int> limit = parseLimit(value);
  if (!limit) return std::nullopt;
  return KeyPolicy{KeyPolicy::Kind::kLimit, *limit};
}

LimitList effectiveLimits(const std::optional<KeyPolicy>& policy, const LimitList& location,
                          Second window_seconds) {
  if (!policy || policy->kind != KeyPolicy::Kind::kLimit) return location;
  if (!policy->limits.empty()) return policy->limits;
  if (policy->limit <= 0) return location;
  return LimitList{LimitRule{policy->limit, window_seconds, true}};
}

}  // namespace access_limiter
