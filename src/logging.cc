#include "logging.h"

#include <unistd.h>

#include <cstddef>
#include <string>

#include "signal_safe.h"

namespace access_limiter {

namespace {

// Fixed, so that a signal handler can read it.
char g_program[64] = "access-limiter";

// Longest line logLineFromSignal writes, with its newline, in bytes.
constexpr std::size_t kMaxSignalLineBytes = 2048;

}  // namespace

void setProgramName(const char* name) { copyInto(g_program, sizeof g_program, 0, name); }

const char* programName() { return g_program; }

void logLine(std::string_view message) {
  std::string line;
  line.reserve(message.size() + 64);
  line += g_program;
  line += ": ";
  for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
  line += '\n';
  writeAll(STDERR_FILENO, line.data(), line.size());
}

void logLineFromSignal(const char* first, const char* second) {
  char line[kMaxSignalLineBytes];
  std::size_t n = copyInto(line, sizeof line, 0, g_program);
  n = copyInto(line, sizeof line, n, ": ");
  n = copyInto(line, sizeof line, n, first);
  n = copyInto(line, sizeof line, n, second);
  if (n + 1 < sizeof line) line[n++] = '\n';
  writeAll(STDERR_FILENO, line, n);
}

}  // namespace access_limiter
