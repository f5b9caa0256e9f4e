#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "limiter.h"

namespace access_limiter {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The header policy of a decision, with draft-ietf-httpapi-ratelimit-headers-11's
// meanings (r: the quota left; t: the seconds within which the client can
// use no more than r, here the seconds until the window ends):
// - RateLimit-Policy lists every limit of the key, shortest window first:
//   "second";q=10;w=1, "hour";q=1000;w=3600 ("default";q=LIMIT;w=WINDOW
//   for a plain N);
// - RateLimit reports the one closest to exhaustion (reportedLimit):
//   "hour";r=REMAINING;t=SECONDS;
// - a rejection adds Retry-After, in whole seconds: when every limit has
//   room again, the latest end of the full ones' windows, at least 1 and at
//   most the longest window + kClockSkewToleranceSeconds.
// An admission carries no Retry-After.
HeaderList rateLimitHeaders(const Admission& admission);

// The limit RateLimit reports: when refused, the full limit whose window
// ends last (the one Retry-After waits for); otherwise the fewest left, and
// of equals the longest wait.
std::size_t reportedLimit(const Admission& admission);

// One limit's decision, alone.
HeaderList rateLimitHeaders(const Decision& decision);

}  // namespace access_limiter
