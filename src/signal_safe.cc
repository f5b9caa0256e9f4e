#include "signal_safe.h"

#include <unistd.h>

#include <cerrno>

namespace access_limiter {

bool writeAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t written = write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

std::size_t copyInto(char* out, std::size_t capacity, std::size_t at, const char* text) {
  while (*text != '\0' && at + 1 < capacity) out[at++] = *text++;
  out[at] = '\0';
  return at;
}

}  // namespace access_limiter
