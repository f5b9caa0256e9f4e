#pragma once

#include <string>
#include <string_view>

namespace access_limiter {

// A key becomes a directory name under ACCESS_ROOT, so only names that can
// never leave that directory are accepted: 1 to kMaxKeyBytes bytes of
// [A-Za-z0-9._~-], not starting with '.' (which also rules out "." and "..",
// and keeps dot-names free for the store's own probes).
inline constexpr std::size_t kMaxKeyBytes = 128;

bool isValidKey(std::string_view key);

// The rule above in words, for error messages and docs.
const std::string& keyRule();

}  // namespace access_limiter
