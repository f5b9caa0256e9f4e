#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.h"

namespace access_limiter {

// One limit on a key: at most `limit` admissions per window of
// `window_seconds`. A key may carry several (a burst and a quota); a
// request is admitted only when every one has room.
struct LimitRule {
  int limit = 10;
  Second window_seconds = 1;
  // Written as a plain N (ACCESS_LIMIT=N with ACCESS_WINDOW, --limit N):
  // its policy is named "default", as before lists existed.
  bool plain = false;

  bool operator==(const LimitRule& other) const {
    return limit == other.limit && window_seconds == other.window_seconds && plain == other.plain;
  }
};

// A key's limits, in the order of their windows, shortest first; no two
// with the same window.
using LimitList = std::vector<LimitRule>;

// At most this many limits on one key: each costs a claim per admission.
inline constexpr std::size_t kMaxLimitRules = 4;

// The list form "N/W,N/W,...", W a count of seconds with an optional unit
// (s, m, h, d): "10/1s,1000/1h,20000/1d". Spaces around each N/W are
// allowed, not within it.
// Each N is a limit (bounds.h), each W 1 s to kMaxWindowSeconds, windows
// distinct, 1 to kMaxLimitRules of them. Sorted by window. None for
// anything else, with `problem` saying why.
std::optional<LimitList> parseLimitList(std::string_view text, std::string& problem);

// The canonical form parseLimitList reads back: windows in the largest unit
// that divides them ("10/1s,1000/1h,20000/1d").
std::string formatLimitList(const LimitList& limits);

// A policy's name in RateLimit-Policy, RateLimit, a 429's JSON and the
// metrics: "default" for a plain N; otherwise its window's: "second",
// "minute", "hour", "day", or the window as written ("10s", "5m", "2h").
std::string policyName(const LimitRule& rule);

}  // namespace access_limiter
