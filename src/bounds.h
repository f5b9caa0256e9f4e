#pragma once

namespace access_limiter {

// Upper bound of ACCESS_LIMIT and of a key's --limit: one file per
// admission, so a limit is also a number of files per key per window.
inline constexpr int kMaxLimit = 100000;

}  // namespace access_limiter
