#pragma once

#include <string_view>

namespace access_limiter {

// Log lines go to stderr, which is Apache's error log, one line per event:
// "<program>: <message>".

// Names the program in log lines and in mail ("access-limiter" until set).
// Longer names are cut at 63 bytes.
void setProgramName(const char* name);

// The name set by setProgramName, from a fixed buffer: safe to read in a
// signal handler.
const char* programName();

// Writes "<program>: <message>\n" to stderr in a single write, so lines from
// concurrent CGI processes never interleave. Line breaks inside `message`
// become spaces: one event, one line.
void logLine(std::string_view message);

// The same line from two fixed parts, "<program>: <first><second>\n", for a
// signal handler: no allocation. The line is cut at 2047 bytes.
void logLineFromSignal(const char* first, const char* second);

}  // namespace access_limiter
