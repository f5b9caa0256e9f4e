#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "config.h"
#include "http_status.h"

using namespace access_limiter;

namespace {
EnvLookup envOf(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}
}  // namespace

BOOST_AUTO_TEST_SUITE(configuration)

BOOST_AUTO_TEST_CASE(defaults_are_the_seed_samples_values) {
  Config c = loadConfig(envOf({}));
  BOOST_TEST(c.limit == 10);
  BOOST_TEST(c.root == "/tmp/access");
  BOOST_TEST(describeKeySource(c.key) == "app_id");
  BOOST_TEST(!c.fail_open);
  BOOST_TEST(c.error_mail.empty());
}

BOOST_AUTO_TEST_CASE(valid_values_are_taken) {
  Config c = loadConfig(envOf({{"ACCESS_LIMIT", "100000"},
                               {"ACCESS_ROOT", "/mnt/gluster/access"},
                               {"ACCESS_KEY", "api_key"},
                               {"ACCESS_FAIL_OPEN", "1"},
                               {"ACCESS_ERROR_MAIL", "ops@example.com"},
                               {"ACCESS_MAIL_COMMAND", "/usr/bin/msmtp"}}));
  BOOST_TEST(c.limit == 100000);
  BOOST_TEST(c.root == "/mnt/gluster/access");
  BOOST_TEST(describeKeySource(c.key) == "api_key");
  BOOST_TEST(c.fail_open);
  BOOST_TEST(c.error_mail == "ops@example.com");
  BOOST_TEST(c.mail_command == "/usr/bin/msmtp");
  BOOST_TEST(describeConfig(c).find("ACCESS_LIMIT=100000\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_values_are_errors_that_name_the_variable) {
  const std::pair<const char*, const char*> bad[] = {
      {"ACCESS_LIMIT", ""},         {"ACCESS_LIMIT", "0"},
      {"ACCESS_LIMIT", "-5"},       {"ACCESS_LIMIT", "10x"},
      {"ACCESS_LIMIT", "100001"},   {"ACCESS_LIMIT", "99999999999999999999"},
      {"ACCESS_LIMIT", " 10"},      {"ACCESS_LIMIT", "010"},
      {"ACCESS_ROOT", ""},
      {"ACCESS_ROOT", "relative/dir"}, {"ACCESS_KEY", ""},
      {"ACCESS_KEY", "a key"},      {"ACCESS_KEY", "k&x"},
      {"ACCESS_FAIL_OPEN", "yes"},  {"ACCESS_FAIL_OPEN", ""},
      {"ACCESS_ERROR_MAIL", "-oQ/tmp/x@example.com"},
      {"ACCESS_ERROR_MAIL", "no-at-sign"},
      {"ACCESS_ERROR_MAIL", "a@b.c, d@e.f"},
      {"ACCESS_MAIL_COMMAND", "sendmail"},
      {"ACCESS_ROOT", "/tmp/a\nb"},
      {"ACCESS_ROOT", "/tmp/tab\there"},
  };
  for (const auto& [name, value] : bad) {
    BOOST_TEST_CONTEXT(name << "=\"" << value << "\"") {
      try {
        loadConfig(envOf({{name, value}}));
        BOOST_FAIL("accepted a bad value");
      } catch (const ConfigError& e) {
        BOOST_TEST(std::string(e.what()).rfind(std::string(name) + "=", 0) == 0);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_root_component_over_255_bytes_is_refused) {
  const std::string longest = "/srv/" + std::string(255, 'a') + "/access";
  BOOST_TEST(loadConfig(envOf({{"ACCESS_ROOT", longest.c_str()}})).root == longest);
  const std::string too_long = "/srv/" + std::string(256, 'a') + "/access";
  BOOST_CHECK_THROW(loadConfig(envOf({{"ACCESS_ROOT", too_long.c_str()}})), ConfigError);
}

BOOST_AUTO_TEST_CASE(an_empty_mail_address_means_off) {
  BOOST_TEST(loadConfig(envOf({{"ACCESS_ERROR_MAIL", ""}})).error_mail.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(key_sources)

BOOST_AUTO_TEST_CASE(each_source_round_trips_through_check_config) {
  for (const char* text : {"app_id", "header:X-Api-Key", "remote-addr", "api.key-2"}) {
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(describeKeySource(loadConfig(envOf({{"ACCESS_KEY", text}})).key) == text);
    }
  }
  const KeySource param = loadConfig(envOf({{"ACCESS_KEY", "param:token"}})).key;
  BOOST_TEST((param.kind == KeySource::Kind::kParameter));
  BOOST_TEST(param.name == "token");
  const KeySource header = loadConfig(envOf({{"ACCESS_KEY", "header:X-Api-Key"}})).key;
  BOOST_TEST((header.kind == KeySource::Kind::kHeader));
  BOOST_TEST(header.name == "X-Api-Key");
}

BOOST_AUTO_TEST_CASE(bad_sources_are_refused_with_the_syntax) {
  for (const char* text : {"", "header:", "header:X_Api_Key", "header:a b", "param:",
                           "cookie:x", "header:X-Api-Key:extra", "k&x"}) {
    BOOST_TEST_CONTEXT(text) {
      try {
        loadConfig(envOf({{"ACCESS_KEY", text}}));
        BOOST_FAIL("accepted");
      } catch (const ConfigError& e) {
        BOOST_TEST(std::string(e.what()).find("header:NAME or remote-addr") != std::string::npos);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
