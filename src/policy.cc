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
  const std::string_view digits = text.substr(kLimitPrefix.size());
  if (digits.empty() || digits.size() > 6 || digits.front() == '0') return std::nullopt;
  int limit = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    limit = limit * 10 + (c - '0');
  }
  if (limit > kMaxLimit) return std::nullopt;
  return KeyPolicy{KeyPolicy::Kind::kLimit, limit};
}

int effectiveLimit(const KeyPolicy& policy, int default_limit) {
  return policy.kind == KeyPolicy::Kind::kLimit && policy.limit > 0 ? policy.limit : default_limit;
}

}  // namespace access_limiter
