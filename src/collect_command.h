#pragma once

#include <string>

#include "clock.h"
#include "command_result.h"
#include "store.h"

namespace access_limiter {

// --gc: removes every key's windows outside [now - kClockSkewToleranceSeconds,
// now + kClockSkewToleranceSeconds] and the directories of keys left idle.
// Goes on past entries it cannot collect, names each, and then exits 1;
// exits 1 too when the root cannot be listed. Says when it removed windows
// from the future: a node's clock is off.
CommandResult runCollection(Store& store, Second now, const std::string& root,
                            const std::string& program);

}  // namespace access_limiter
