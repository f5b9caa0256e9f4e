#include "ratelimit_headers.h"

#include <algorithm>

namespace access_limiter {

std::size_t reportedLimit(const Admission& admission) {
  if (!admission.admitted && !admission.violated.empty()) {
    std::size_t reported = admission.violated.front();
    for (const std::size_t i : admission.violated)
      if (admission.decisions[i].reset_after_seconds >
          admission.decisions[reported].reset_after_seconds)
        reported = i;
    return reported;
  }
  std::size_t reported = 0;
  for (std::size_t i = 1; i < admission.decisions.size(); ++i) {
    const Decision& d = admission.decisions[i];
    const Decision& best = admission.decisions[reported];
    if (d.remaining < best.remaining ||
        (d.remaining == best.remaining && d.reset_after_seconds > best.reset_after_seconds))
      reported = i;
  }
  return reported;
}

HeaderList rateLimitHeaders(const Admission& admission) {
  HeaderList headers;
  std::string policies;
  for (const Decision& d : admission.decisions) {
    if (!policies.empty()) policies += ", ";
    policies += "\"" + policyName(d.rule) + "\";q=" + std::to_string(d.rule.limit) +
                ";w=" + std::to_string(d.rule.window_seconds);
  }
  headers.emplace_back("RateLimit-Policy", policies);
  const Decision& reported = admission.decisions[reportedLimit(admission)];
  headers.emplace_back("RateLimit", "\"" + policyName(reported.rule) + "\";r=" +
                                        std::to_string(reported.remaining) + ";t=" +
                                        std::to_string(reported.reset_after_seconds));
  if (!admission.admitted) {
    Second retry_after = 1;
    for (const std::size_t i : admission.violated)
      retry_after = std::max(retry_after, admission.decisions[i].reset_after_seconds);
    headers.emplace_back("Retry-After", std::to_string(retry_after));
  }
  return headers;
}

HeaderList rateLimitHeaders(const Decision& decision) {
  Admission admission;
  admission.admitted = decision.admitted;
  admission.decisions.push_back(decision);
  if (!decision.admitted) admission.violated.push_back(0);
  return rateLimitHeaders(admission);
}

}  // namespace access_limiter
