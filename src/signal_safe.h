#pragma once

#include <cstddef>

namespace access_limiter {

// Text and output without allocation, locks or stdio, so safe in a signal
// handler and in a child forked from a process with threads (the watchdog's).
// Ordinary code uses them too.

// Writes all of `size` bytes at `data` to `fd`, retrying short writes and
// EINTR. False on error.
bool writeAll(int fd, const char* data, std::size_t size);

// Copies the NUL-terminated `text` into `out` (of `capacity` bytes) from
// offset `at`, as much as fits with a terminating NUL, and returns the
// offset of that NUL: the next call's `at`.
std::size_t copyInto(char* out, std::size_t capacity, std::size_t at, const char* text);

}  // namespace access_limiter
