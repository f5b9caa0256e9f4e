#pragma once

#include <cstdint>
#include <optional>
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

// A key from a header is a client's credential: it is stored, logged and
// shown only as its keyed hash under the cluster's secret
// (ACCESS_KEY_SECRET: 128 bits as 32 hex digits, the same on every node).
// Without a secret the hash is unkeyed: no key can be read back, but a
// reader of the store can test guesses.
struct KeySecret {
  std::uint64_t k0 = 0;  // the secret's bytes 0-7, little-endian
  std::uint64_t k1 = 0;  // bytes 8-15
};
inline constexpr std::size_t kKeySecretHexDigits = 32;

// nullopt unless `hex` is exactly kKeySecretHexDigits hex digits.
std::optional<KeySecret> parseKeySecret(std::string_view hex);

// The stored form of a secret value: "h~" and the 32 lower-case hex digits
// of its SipHash-2-4-128 under `secret`. A valid key that no parameter
// value or encodeKey result is taken for by accident (encodeKey never
// leaves a bare '~').
std::string hashedKey(std::string_view value, const KeySecret& secret);

// True for hashedKey's form.
bool isHashedKey(std::string_view key);

// Eight hex digits that tell two secrets apart without revealing either,
// for --check-config.
std::string secretFingerprint(const KeySecret& secret);

}  // namespace access_limiter
