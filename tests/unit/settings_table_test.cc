// The settings table (config.h) against every file that names the settings
// for people or for Apache: docs/configuration.md's table, the packaged
// settings.conf and the Apache drop-in. A setting added, renamed or given a
// new default in one place and not the others fails here.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "config.h"

using namespace access_limiter;

namespace {

std::string sourceFile(const std::string& relative_path) {
  std::ifstream in(std::string(ACCESS_SOURCE_DIR) + "/" + relative_path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << relative_path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Whitespace runs as one space, so layout never matters.
std::string squeezed(const std::string& text) {
  return std::regex_replace(text, std::regex("\\s+"), " ");
}

std::set<std::string> namesWhere(bool (*wanted)(const SettingSpec&)) {
  std::set<std::string> names;
  for (const SettingSpec& spec : settingSpecs())
    if (wanted(spec)) names.insert(spec.name);
  return names;
}

bool anySetting(const SettingSpec&) { return true; }
bool globalSetting(const SettingSpec& spec) { return spec.apache != ApachePassing::kLocationOnly; }

// The default as the docs and settings.conf write it; --check-config prints
// the uid where they write UID.
std::string withUid(const std::string& shown) {
  const std::string uid_word = ".UID";
  const std::size_t at = shown.find(uid_word);
  return at == std::string::npos ? shown : shown.substr(0, at) + "." + std::to_string(geteuid());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(settings_table)

BOOST_AUTO_TEST_CASE(each_shown_default_is_what_an_empty_environment_loads) {
  const Config defaults = loadConfig([](const char*) -> const char* { return nullptr; });
  for (const SettingSpec& spec : settingSpecs()) {
    BOOST_TEST_CONTEXT(spec.name) {
      const std::string described = spec.describe(defaults);
      if (*spec.shown_default == '\0')
        BOOST_TEST((described.empty() || described == "unset"));
      else
        BOOST_TEST(described == withUid(spec.shown_default));
    }
  }
}

BOOST_AUTO_TEST_CASE(names_are_unique_and_help_ends_with_the_default) {
  std::set<std::string> seen;
  for (const SettingSpec& spec : settingSpecs()) {
    BOOST_TEST_CONTEXT(spec.name) {
      BOOST_TEST(seen.insert(spec.name).second);
      const std::string help = spec.help();
      BOOST_TEST(help.find("default") != std::string::npos);
      if (*spec.shown_default != '\0')
        BOOST_TEST(squeezed(help).find(std::string("default ") + spec.shown_default) !=
                   std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(docs_table_lists_every_setting_with_its_default) {
  // Rows "| `ACCESS_NAME` | default | what it does |".
  const std::regex row("^\\| `(ACCESS_[A-Z_]+)` \\| ([^|]*) \\|");
  std::map<std::string, std::string> documented;
  std::istringstream lines(sourceFile("docs/configuration.md"));
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_search(line, match, row))
      BOOST_TEST(documented.emplace(match[1], match[2]).second, match[1] << " listed twice");
  }
  std::set<std::string> names;
  for (const auto& entry : documented) names.insert(entry.first);
  BOOST_TEST(names == namesWhere(anySetting), boost::test_tools::per_element());
  for (const SettingSpec& spec : settingSpecs()) {
    BOOST_TEST_CONTEXT(spec.name) {
      const std::string& cell = documented[spec.name];
      if (*spec.shown_default == '\0')
        BOOST_TEST((cell.rfind("unset", 0) == 0 || cell.rfind("empty", 0) == 0));
      else
        BOOST_TEST(cell == "`" + std::string(spec.shown_default) + "`");
    }
  }
}

BOOST_AUTO_TEST_CASE(packaged_settings_conf_offers_every_global_setting) {
  // "#Define NAME VALUE" (a default, commented out) or "Define NAME VALUE",
  // each after a comment that says the default.
  const std::regex define("^#?Define (ACCESS_[A-Z_]+) (.+)$");
  const std::string dropin = sourceFile("apache/access-limiter.conf");
  std::set<std::string> offered;
  std::string comment;
  std::istringstream lines(sourceFile("packaging/settings.conf"));
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_match(line, match, define)) {
      const std::string name = match[1], value = match[2];
      BOOST_TEST_CONTEXT(name) {
        BOOST_TEST(offered.insert(name).second);
        const auto spec = std::find_if(settingSpecs().begin(), settingSpecs().end(),
                                       [&](const SettingSpec& s) { return name == s.name; });
        if (spec == settingSpecs().end()) {
          // Not the programs': one of the drop-in's own, such as the URLs.
          BOOST_TEST(dropin.find("<IfDefine !" + name + ">") != std::string::npos);
        } else {
          BOOST_TEST((spec->apache != ApachePassing::kLocationOnly));
          if (*spec->shown_default != '\0')
            BOOST_TEST(squeezed(comment).find(std::string("default ") + spec->shown_default) !=
                       std::string::npos);
          // A placeholder such as "(32 hex digits)" aside, the example loads.
          if (value.front() != '(') {
            BOOST_CHECK_NO_THROW(loadConfig([&](const char* asked) -> const char* {
              return name == asked ? value.c_str() : nullptr;
            }));
          }
        }
      }
      comment.clear();
    } else if (line.rfind("#", 0) == 0) {
      comment += line.substr(1) + " ";
    } else {
      comment.clear();
    }
  }
  for (const std::string& name : namesWhere(globalSetting))
    BOOST_TEST(offered.count(name) == 1, name << " missing from packaging/settings.conf");
}

BOOST_AUTO_TEST_CASE(apache_drop_in_passes_each_setting_as_the_table_says) {
  // Directives only: comments name settings too.
  const std::string dropin = squeezed(
      std::regex_replace(sourceFile("apache/access-limiter.conf"), std::regex("(^|\n)\\s*#[^\n]*"), "\n"));
  for (const SettingSpec& spec : settingSpecs()) {
    const std::string name = spec.name;
    const std::string set_env = "SetEnv " + name + " ${" + name + "}";
    BOOST_TEST_CONTEXT(name) {
      switch (spec.apache) {
        case ApachePassing::kAlways:
          BOOST_TEST(dropin.find("<IfDefine !" + name + "> Define " + name + " " +
                                 spec.shown_default + " </IfDefine>") != std::string::npos);
          BOOST_TEST(dropin.find(set_env) != std::string::npos);
          BOOST_TEST(dropin.find("<IfDefine " + name + "> " + set_env) == std::string::npos);
          break;
        case ApachePassing::kWhenDefined:
          BOOST_TEST(dropin.find("<IfDefine " + name + "> " + set_env + " </IfDefine>") !=
                     std::string::npos);
          BOOST_TEST(dropin.find("<IfDefine !" + name + ">") == std::string::npos);
          break;
        case ApachePassing::kLocationOnly:
          BOOST_TEST(dropin.find("SetEnv " + name) == std::string::npos);
          break;
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
