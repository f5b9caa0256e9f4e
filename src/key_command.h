#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "clock.h"
#include "command_result.h"
#include "config.h"
#include "store.h"

namespace access_limiter {

// --key ACTION ..., from a shell: the operator's registry of keys, kept in
// the shared store, so a change made on one node is seen by all within a
// second, without reloading Apache.
//   add KEY [--limit N | --unlimited | --blocked] [--header]   register (or change) a key
//   remove KEY [--header]                           unregister it
//   list                                            every registered key
//   --help                                          the usage
struct KeyCommand {
  enum class Action { kAdd, kRemove, kList, kHelp };
  Action action = Action::kHelp;
  std::string key;  // as given; storedKeyOf says which key it means
  // --header: KEY is a header's value (a credential), whatever ACCESS_KEY
  // says: for locations that set their own ACCESS_KEY=header:NAME.
  bool header = false;
  KeyPolicy policy;  // for kAdd
};

// The stored key an operator means by `word` on the command line (--key,
// --status). Keys from a header are credentials, stored hashed (key.h): the
// word is the raw credential, or its stored form ("h~...", as --status
// shows it). Otherwise the word is the key itself. nullopt when the word
// can be no key (the request would have been refused).
std::optional<std::string> storedKeyOf(const std::string& word, const KeySource& source);

// What storedKeyOf accepts, in words, for its error messages.
std::string keyWordRule(const KeySource& source);

// Parses the words after --key. Wrong words give a CommandResult that exits
// 2 and says why: the input is checked before anything changes.
std::variant<KeyCommand, CommandResult> parseKeyCommand(const std::vector<std::string>& args,
                                                        const std::string& program);

// Carries a parsed command out; a store failure (or removing a key that was
// not registered) exits 1.
CommandResult runKeyCommand(Store& store, const KeyCommand& command, const std::string& program);

// The usage of --key, for --key --help.
std::string keyCommandHelp(const std::string& program);

// What --status needs beyond the store.
struct StatusSettings {
  StatusSettings() = default;
  StatusSettings(int limit, Second window, LimitList list = {})
      : default_limit(limit), window_seconds(window), limit_list(std::move(list)) {}

  int default_limit = 10;     // ACCESS_LIMIT
  Second window_seconds = 1;  // ACCESS_WINDOW
  LimitList limit_list;       // ACCESS_LIMIT as a list; empty for a plain N
};

// --status [KEY]: each key's use of its current windows (this node's clock)
// against its limits (USED 3,40 against LIMIT 10/1s,1000/1h for a list),
// busiest first (by the count of its shortest window), and its policy. Lists the store's root:
// an operator's command, never a request's. A key whose policy cannot be
// read is listed as such, and the exit status is then 1.
CommandResult runStatus(Store& store, Second now, const StatusSettings& settings,
                        const std::optional<std::string>& key, const std::string& program);

}  // namespace access_limiter
