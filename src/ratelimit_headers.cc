#include "ratelimit_headers.h"

namespace access_limiter {

HeaderList rateLimitHeaders(const Decision& decision) {
  const std::string reset = std::to_string(decision.reset_after_seconds);
  HeaderList headers;
  headers.emplace_back("RateLimit-Policy",
                       "\"default\";q=" + std::to_string(decision.limit) +
                           ";w=" + std::to_string(decision.window_seconds));
  headers.emplace_back("RateLimit",
                       "\"default\";r=" + std::to_string(decision.remaining) + ";t=" + reset);
  if (!decision.admitted) headers.emplace_back("Retry-After", reset);
  return headers;
}

}  // namespace access_limiter
