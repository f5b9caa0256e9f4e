#pragma once

#include <string>
#include <utility>
#include <vector>

#include "limiter.h"

namespace access_limiter {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The header policy of a decision (draft-ietf-httpapi-ratelimit-headers-10):
// every decision carries RateLimit-Policy ("default";q=LIMIT;w=WINDOW) and
// RateLimit ("default";r=REMAINING;t=SECONDS); a rejection adds Retry-After,
// in whole seconds, at least 1 and at most WINDOW + kClockSkewToleranceSeconds.
// An admission carries no Retry-After.
HeaderList rateLimitHeaders(const Decision& decision);

}  // namespace access_limiter
