#include "key.h"

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

const char* keyRule() {
  return "must be 1 to 128 characters of A-Z a-z 0-9 . _ ~ - and must not "
         "start with '.'";
}

}  // namespace access_limiter
