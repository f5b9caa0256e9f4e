// The FastCGI authorizer with a store that never touches a file system, for
// scripts/bench-fastcgi: the decision's own cost is the difference between
// this program and access-limiter --fastcgi with ACCESS_ROOT on tmpfs. It
// parses, decides and answers exactly as the shipped program does (node
// cache, RateLimit fields and all), but every key's window looks empty and
// every claim succeeds, so every request is admitted.
// Usage: authorizer-without-store --fastcgi ADDRESS [--workers N]
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "authorizer_program.h"
#include "store.h"

namespace {

using access_limiter::Collection;
using access_limiter::KeyPolicy;
using access_limiter::Second;
using access_limiter::Window;

class EmptyStore final : public access_limiter::Store {
 public:
  int countTaken(const std::string&, const Window&, int known_taken, int) override {
    return known_taken;
  }
  bool claimSlot(const std::string&, const Window&, int) override { return true; }
  void releaseSlot(const std::string&, const Window&, int) override {}
  Collection collectAll(Second, Second) override { return {}; }
  std::optional<KeyPolicy> readPolicy(const std::string&) override { return std::nullopt; }
  void writePolicy(const std::string&, const KeyPolicy&) override {}
  bool removePolicy(const std::string&) override { return false; }
  std::vector<std::string> keys() override { return {}; }
  void probe() override {}
};

}  // namespace

int main(int argc, char** argv) {
  const access_limiter::SystemClock clock;
  const access_limiter::AuthorizerSeams seams{
      clock, nullptr,
      [](const std::string&) -> std::unique_ptr<access_limiter::Store> {
        return std::make_unique<EmptyStore>();
      }};
  if (const std::optional<int> exit_status =
          access_limiter::runAuthorizerCommandLine(argc, argv, seams))
    return *exit_status;
  std::fputs("usage: authorizer-without-store --fastcgi ADDRESS [--workers N]\n", stderr);
  return 2;
}
