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

const std::string& keyRule() {
  static const std::string rule = "must be 1 to " + std::to_string(kMaxKeyBytes) +
                                  " characters of A-Z a-z 0-9 . _ ~ - and must not start with '.'";
  return rule;
}

}  // namespace access_limiter
