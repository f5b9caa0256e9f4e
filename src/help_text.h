#pragma once

#include <string>

namespace access_limiter {

// The --help texts, built from the constants they quote.
std::string limiterHelp();
std::string healthHelp();

}  // namespace access_limiter
