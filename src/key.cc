#include "key.h"

#include <string>

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

}  // namespace access_limiter
