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

// A valid key standing for any value (a header's, a client address): bytes
// of [A-Za-z0-9_-], and '.' past the first byte, stay; every other byte,
// '~' included, becomes "~HH" (upper-case hex). So two values never share a
// key, and "2001:db8::1" becomes "2001~3Adb8~3A~3A1". May be longer than
// kMaxKeyBytes; empty for an empty value.
std::string encodeKey(std::string_view value);

// The rule above in words, for error messages and docs.
const std::string& keyRule();

}  // namespace access_limiter
