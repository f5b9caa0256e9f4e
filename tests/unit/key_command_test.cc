#include <boost/test/unit_test.hpp>

#include <string>
#include <variant>
#include <vector>

#include "key_command.h"
#include "memory_store.h"

using namespace access_limiter;
using access_limiter::testing::MemoryStore;

namespace {

std::variant<KeyCommand, CommandResult> parse(std::vector<std::string> words) {
  return parseKeyCommand(words, "access-limiter");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(key_command)

BOOST_AUTO_TEST_CASE(good_words_make_a_command) {
  auto add = std::get<KeyCommand>(parse({"add", "k", "--limit", "25"}));
  BOOST_TEST((add.action == KeyCommand::Action::kAdd));
  BOOST_TEST(add.key == "k");
  BOOST_TEST((add.policy == KeyPolicy{KeyPolicy::Kind::kLimit, 25}));
  BOOST_TEST((std::get<KeyCommand>(parse({"add", "k"})).policy == KeyPolicy{}));
  BOOST_TEST((std::get<KeyCommand>(parse({"add", "k", "--blocked"})).policy.kind ==
              KeyPolicy::Kind::kBlocked));
  BOOST_TEST((std::get<KeyCommand>(parse({"remove", "k"})).action == KeyCommand::Action::kRemove));
  BOOST_TEST((std::get<KeyCommand>(parse({"list"})).action == KeyCommand::Action::kList));
  BOOST_TEST((std::get<KeyCommand>(parse({"add", "--help"})).action == KeyCommand::Action::kHelp));
}

BOOST_AUTO_TEST_CASE(bad_words_exit_2_and_say_why) {
  const std::vector<std::vector<std::string>> cases = {
      {}, {"add"}, {"add", ""}, {"delete", "k"}, {"add", "k", "--limit"},
      {"add", "k", "--limit", "0"}, {"add", "k", "--unlimited", "--blocked"}, {"list", "x"},
      {"remove", "k", "k"}};
  for (const auto& words : cases) {
    const auto parsed = parse(words);
    const auto* result = std::get_if<CommandResult>(&parsed);
    BOOST_TEST_REQUIRE(result != nullptr);
    BOOST_TEST(result->exit_status == 2);
    BOOST_TEST(result->err.find("see access-limiter --key --help") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(an_operator_names_a_key_as_a_request_would_count_it) {
  KeySource parameter;
  BOOST_TEST(storedKeyOf("k.1", parameter).value_or("none") == "k.1");
  BOOST_TEST(!storedKeyOf("a/b", parameter));
  BOOST_TEST(!storedKeyOf("../escape", parameter));
  KeySource header;
  header.kind = KeySource::Kind::kHeader;
  header.name = "X-Api-Key";
  header.secret = parseKeySecret("000102030405060708090a0b0c0d0e0f");
  const std::optional<std::string> stored = storedKeyOf("sk+live/AbC==", header);
  BOOST_TEST_REQUIRE(stored.has_value());
  BOOST_TEST(isHashedKey(*stored));
  BOOST_TEST(stored->find("sk") == std::string::npos);
  BOOST_TEST(storedKeyOf(*stored, header).value_or("none") == *stored);  // the form --status shows
  header.secret = parseKeySecret("ffffffffffffffffffffffffffffffff");
  BOOST_TEST(storedKeyOf("sk+live/AbC==", header).value_or("none") != *stored);
  BOOST_TEST(!storedKeyOf(std::string(200, 'x'), header));
}

BOOST_AUTO_TEST_CASE(status_lists_the_busiest_first) {
  MemoryStore store;
  store.writePolicy("vip", KeyPolicy{KeyPolicy::Kind::kUnlimited, 0});
  store.writePolicy("gold", KeyPolicy{KeyPolicy::Kind::kLimit, 2});
  for (int slot = 0; slot < 2; ++slot) store.claimSlot("gold", 1000, slot);
  for (int slot = 0; slot < 5; ++slot) store.claimSlot("busy", 1000, slot);
  store.claimSlot("busy", 999, 0);  // a past window does not count
  const CommandResult status = runStatus(store, 1000, {10, 1}, std::nullopt, "access-limiter");
  BOOST_TEST(status.exit_status == 0);
  const std::string& out = status.out;
  const auto busy = out.find("busy "), gold = out.find("gold "), vip = out.find("vip ");
  BOOST_TEST_REQUIRE((busy != std::string::npos && gold != std::string::npos && vip != std::string::npos));
  BOOST_TEST(busy < gold);
  BOOST_TEST(gold < vip);
  BOOST_TEST(out.find("limit=2 (full)") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
