#include "key.h"

#include <string>

#include "siphash.h"

namespace access_limiter {

namespace {
bool isKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
         c == '-';
}
}  // namespace

bool isValidKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes || key.front() == '.')
    return false;
  for (char c : key)
    if (!isKeyChar(c)) return false;
  return true;
}

std::string encodeKey(std::string_view value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string key;
  key.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (isKeyChar(c) && c != '~' && !(c == '.' && i == 0)) {
      key += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      key += '~';
      key += kHex[byte >> 4];
      key += kHex[byte & 0xF];
    }
  }
  return key;
}

const std::string& keyRule() {
  static const std::string rule = "must be 1 to " + std::to_string(kMaxKeyBytes) +
                                  " characters of A-Z a-z 0-9 . _ ~ - and must not start with '.'";
  return rule;
}

namespace {
constexpr char kHashedPrefix[] = "h~";
constexpr std::size_t kHashedPrefixBytes = sizeof kHashedPrefix - 1;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void appendHex(std::string& out, std::uint64_t word, int digits) {
  static const char kHex[] = "0123456789abcdef";
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += kHex[(word >> shift) & 0xF];
}
}  // namespace

std::optional<KeySecret> parseKeySecret(std::string_view hex) {
  if (hex.size() != kKeySecretHexDigits) return std::nullopt;
  KeySecret secret;
  for (std::size_t byte = 0; byte < kKeySecretHexDigits / 2; ++byte) {
    const int high = hexValue(hex[2 * byte]);
    const int low = hexValue(hex[2 * byte + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    std::uint64_t& word = byte < 8 ? secret.k0 : secret.k1;
    word |= static_cast<std::uint64_t>(high * 16 + low) << (8 * (byte % 8));
  }
  return secret;
}

std::string hashedKey(std::string_view value, const KeySecret& secret) {
  const auto [first, second] = sipHash128(secret.k0, secret.k1, value);
  std::string key = kHashedPrefix;
  appendHex(key, first, 16);
  appendHex(key, second, 16);
  return key;
}

bool isHashedKey(std::string_view key) {
  if (key.size() != kHashedPrefixBytes + 32 || key.substr(0, kHashedPrefixBytes) != kHashedPrefix)
    return false;
  for (char c : key.substr(kHashedPrefixBytes))
    if (hexValue(c) < 0 || (c >= 'A' && c <= 'F')) return false;
  return true;
}

std::string secretFingerprint(const KeySecret& secret) {
  std::string fingerprint;
  appendHex(fingerprint, sipHash64(secret.k0, secret.k1, "access-limiter secret fingerprint"), 8);
  return fingerprint;
}

}  // namespace access_limiter
