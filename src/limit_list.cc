#include "limit_list.h"

#include <algorithm>

#include "bounds.h"

namespace access_limiter {

namespace {

struct Unit {
  char letter;
  Second seconds;
  const char* single;  // the name of a window of one such unit
};
// Largest first: formatLimitList uses the largest that divides a window.
constexpr Unit kUnits[] = {{'d', 86400, "day"}, {'h', 3600, "hour"}, {'m', 60, "minute"},
                           {'s', 1, "second"}};

const Unit& largestUnitOf(Second window_seconds) {
  for (const Unit& unit : kUnits)
    if (window_seconds % unit.seconds == 0) return unit;
  return kUnits[3];
}

std::string windowText(Second window_seconds) {
  const Unit& unit = largestUnitOf(window_seconds);
  return std::to_string(window_seconds / unit.seconds) + unit.letter;
}

// A count of seconds, with an optional unit: "60", "1m", "1h".
std::optional<Second> parseWindowText(std::string_view text) {
  Second multiplier = 1;
  if (!text.empty() && (text.back() < '0' || text.back() > '9')) {
    const auto unit = std::find_if(std::begin(kUnits), std::end(kUnits),
                                   [&](const Unit& u) { return u.letter == text.back(); });
    if (unit == std::end(kUnits)) return std::nullopt;
    multiplier = unit->seconds;
    text.remove_suffix(1);
  }
  if (text.empty() || text.size() > 5 || text.front() == '0') return std::nullopt;
  Second count = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    count = count * 10 + (c - '0');
  }
  const Second seconds = count * multiplier;
  if (seconds > kMaxWindowSeconds) return std::nullopt;
  return seconds;
}

}  // namespace

std::optional<LimitList> parseLimitList(std::string_view text, std::string& problem) {
  LimitList limits;
  for (;;) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    const std::size_t slash = item.find('/');
    if (slash == std::string_view::npos) {
      problem = "each limit is N/W, e.g. 10/1s or 1000/1h";
      return std::nullopt;
    }
    const std::optional<int> limit = parseLimit(item.substr(0, slash));
    if (!limit) {
      problem = "each N is a whole number from 1 to " + std::to_string(kMaxLimit);
      return std::nullopt;
    }
    const std::string_view window_text = item.substr(slash + 1);
    const std::optional<Second> window = parseWindowText(window_text);
    if (!window) {
      problem = "each W is a count of seconds, or a count with s, m, h or d, from 1s to " +
                windowText(kMaxWindowSeconds) +
                (!window_text.empty() && window_text.front() == '0' ? ", without leading zeros"
                                                                    : "");
      return std::nullopt;
    }
    const bool repeated = std::any_of(limits.begin(), limits.end(), [&](const LimitRule& r) {
      return r.window_seconds == *window;
    });
    if (repeated) {
      problem = "two limits on the window " + windowText(*window);
      return std::nullopt;
    }
    limits.push_back(LimitRule{*limit, *window, false});
    if (limits.size() > kMaxLimitRules) {
      problem = "at most " + std::to_string(kMaxLimitRules) + " limits";
      return std::nullopt;
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  std::sort(limits.begin(), limits.end(), [](const LimitRule& a, const LimitRule& b) {
    return a.window_seconds < b.window_seconds;
  });
  return limits;
}

std::string formatLimitList(const LimitList& limits) {
  std::string text;
  for (const LimitRule& rule : limits) {
    if (!text.empty()) text += ",";
    text += std::to_string(rule.limit) + "/" + windowText(rule.window_seconds);
  }
  return text;
}

std::string policyName(const LimitRule& rule) {
  if (rule.plain) return "default";
  const Unit& unit = largestUnitOf(rule.window_seconds);
  if (rule.window_seconds == unit.seconds) return unit.single;
  return windowText(rule.window_seconds);
}

}  // namespace access_limiter
