#pragma once

#include <optional>
#include <string_view>

namespace access_limiter {

// Upper bound of ACCESS_LIMIT and of a key's --limit: one file per
// admission, so a limit is also a number of files per key per window.
inline constexpr int kMaxLimit = 100000;

// The one reading of a limit, wherever it is written (ACCESS_LIMIT, --limit N,
// a policy file's limit=N): a whole number from 1 to kMaxLimit in decimal
// digits, without a leading zero (which some read as octal); nullopt otherwise.
inline std::optional<int> parseLimit(std::string_view digits) {
  if (digits.empty() || digits.size() > 6 || digits.front() == '0') return std::nullopt;
  int limit = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    limit = limit * 10 + (c - '0');
  }
  if (limit > kMaxLimit) return std::nullopt;
  return limit;
}

}  // namespace access_limiter
