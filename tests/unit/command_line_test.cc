#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "command_line.h"

using namespace access_limiter;

BOOST_AUTO_TEST_SUITE(command_line)

BOOST_AUTO_TEST_CASE(a_web_server_run_is_told_by_gateway_interface) {
  const EnvLookup cgi = [](const char* name) -> const char* {
    return std::string(name) == "GATEWAY_INTERFACE" ? "CGI/1.1" : nullptr;
  };
  const EnvLookup shell = [](const char*) -> const char* { return nullptr; };
  BOOST_TEST(runByWebServer(cgi));
  BOOST_TEST(!runByWebServer(shell));
}

BOOST_AUTO_TEST_CASE(commands_from_a_shell) {
  struct Case {
    std::vector<const char*> argv;
    bool operator_commands;
    Command expected;
  };
  const Case cases[] = {
      {{"access-limiter"}, true, Command::kServe},
      {{"access-limiter", "--help"}, true, Command::kHelp},
      {{"access-limiter", "-h"}, false, Command::kHelp},
      {{"access-limiter", "--version"}, true, Command::kVersion},
      {{"access-limiter", "--check-config"}, true, Command::kCheckConfig},
      {{"access-limiter", "--gc"}, true, Command::kCollect},
      {{"access-health", "--gc"}, false, Command::kUnknown},
      {{"access-health", "--check-config"}, false, Command::kUnknown},
      {{"access-limiter", "--gc", "--help"}, true, Command::kUnknown},
      {{"access-limiter", "app_id"}, true, Command::kUnknown},
      {{"access-limiter", ""}, true, Command::kUnknown},
      {{"access-limiter", "--status"}, true, Command::kStatus},
      {{"access-limiter", "--status", "k"}, true, Command::kStatus},
      {{"access-limiter", "--status", "a", "b"}, true, Command::kUnknown},
      {{"access-limiter", "--status", "--help"}, true, Command::kHelp},
      {{"access-limiter", "--key", "list"}, true, Command::kKeys},
      {{"access-limiter", "--key"}, true, Command::kKeys},
      {{"access-health", "--key", "list"}, false, Command::kUnknown},
      {{"access-health", "--status"}, false, Command::kUnknown},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.argv.back()) {
      BOOST_TEST((parseCommand(static_cast<int>(c.argv.size()), c.argv.data(), c.operator_commands) ==
                  c.expected));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
