#include "collect_command.h"

namespace access_limiter {

CommandResult runCollection(Store& store, Second now, const std::string& root,
                            const std::string& program) {
  CommandResult result;
  Collection done;
  try {
    done = store.collectAll(now - kClockSkewToleranceSeconds, now + kClockSkewToleranceSeconds);
  } catch (const StoreError& e) {
    result.err = program + ": cannot collect " + root + ": " + e.what() + "\n";
    result.exit_status = 1;
    return result;
  }
  result.out = program + ": removed " +
               std::to_string(done.windows_removed - done.future_windows_removed) +
               " past windows and " + std::to_string(done.keys_removed) + " idle keys under " +
               root + "\n";
  if (done.future_windows_removed > 0)
    result.err += program + ": removed " + std::to_string(done.future_windows_removed) +
                  " windows up to " + std::to_string(done.furthest_future - now) +
                  " s ahead of this node's clock: a clock is off (nodes must agree within " +
                  std::to_string(kClockSkewToleranceSeconds) + " s; use NTP)\n";
  for (const std::string& error : done.errors)
    result.err += program + ": could not collect " + error + "\n";
  if (!done.errors.empty()) {
    result.err += program + ": " + std::to_string(done.errors.size()) +
                  " entries could not be collected; the rest were\n";
    result.exit_status = 1;
  }
  return result;
}

}  // namespace access_limiter
