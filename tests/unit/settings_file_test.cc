#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>

#include "settings_file.h"
#include "temp_dir.h"

using namespace access_limiter;
using access_limiter::testing::TempDir;

namespace {

std::string messageOf(const std::string& text) {
  try {
    parseSettings(text, "/etc/s.conf");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(settings_file)

BOOST_AUTO_TEST_CASE(define_lines_as_apache_reads_them) {
  const Settings settings = parseSettings(
      "# access-limiter settings\n"
      "\n"
      "Define ACCESS_LIMIT 25\n"
      "  define   ACCESS_ROOT\t/mnt/access  \r\n"
      "DEFINE ACCESS_KEY \"header:X-Api-Key\"\n"
      "Define ACCESS_WINDOW '60'\n"
      "    # Define ACCESS_WINDOW 60\n"
      "Define ACCESS_LIMIT 30\n",
      "/etc/s.conf");
  BOOST_TEST(settings.size() == 4u);
  BOOST_TEST(settings.at("ACCESS_WINDOW") == "60");
  BOOST_TEST(settings.at("ACCESS_LIMIT") == "30");  // the last one wins, as in Apache
  BOOST_TEST(settings.at("ACCESS_ROOT") == "/mnt/access");
  BOOST_TEST(settings.at("ACCESS_KEY") == "header:X-Api-Key");
}

BOOST_AUTO_TEST_CASE(anything_else_is_an_error_naming_the_line) {
  BOOST_TEST(messageOf("Define ACCESS_LIMIT 5\nSetEnv ACCESS_ROOT /x\n") ==
             "/etc/s.conf:2: only \"Define NAME VALUE\" lines and # comments belong here, not "
             "\"SetEnv\"");
  BOOST_TEST(messageOf("Define ACCESS_LIMIT\n") ==
             "/etc/s.conf:1: give \"Define NAME VALUE\", the value one word");
  BOOST_TEST(messageOf("Define ACCESS_ROOT /a b\n") ==
             "/etc/s.conf:1: give \"Define NAME VALUE\", the value one word");
  BOOST_TEST(messageOf("Define ACCESS_ROOT \"/a\n") == "/etc/s.conf:1: a quote is not closed");
  BOOST_TEST(messageOf("Define ACCESS_ROOT \"/my store\"\n") ==
             "/etc/s.conf:1: ACCESS_ROOT: a value must be one word, without spaces");
  BOOST_TEST(messageOf("Define ACCESS_ROOT ${HOME}/x\n") ==
             "/etc/s.conf:1: ACCESS_ROOT: a value here may not refer to another one (${...})");
}

BOOST_AUTO_TEST_CASE(a_name_the_settings_leave_out_is_unset) {
  const EnvLookup lookup = settingsLookup({{"ACCESS_LIMIT", "7"}});
  BOOST_TEST(std::string(lookup("ACCESS_LIMIT")) == "7");
  BOOST_TEST(lookup("ACCESS_ROOT") == nullptr);
}

BOOST_AUTO_TEST_CASE(a_file_that_cannot_be_read_says_why) {
  TempDir dir;
  const std::string path = dir.path() + "/settings.conf";
  std::ofstream(path) << "Define ACCESS_LIMIT 4\n";
  BOOST_TEST(readSettingsFile(path).at("ACCESS_LIMIT") == "4");
  const auto messageFor = [](const std::string& p) -> std::string {
    try {
      readSettingsFile(p);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  };
  BOOST_TEST(messageFor(dir.path() + "/missing") ==
             "--settings " + dir.path() + "/missing: No such file or directory");
  BOOST_TEST(messageFor(dir.path()) == "--settings " + dir.path() + ": not a regular file");
}

BOOST_AUTO_TEST_SUITE_END()
