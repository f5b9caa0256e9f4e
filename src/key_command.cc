#include "key_command.h"

#include <algorithm>
#include <cstdio>

#include "key.h"
#include "bounds.h"

namespace access_limiter {

namespace {

CommandResult usageError(const std::string& program, const std::string& problem) {
  CommandResult result;
  result.exit_status = 2;
  result.err = program + ": --key " + problem + "; see " + program + " --key --help\n";
  return result;
}

// What a status line says of a key's policy.
std::string describe(const std::optional<KeyPolicy>& policy) {
  return policy ? formatPolicy(*policy) : "unregistered";
}

// The words once options are set aside.
std::variant<KeyCommand, CommandResult> parseKeyWords(const std::vector<std::string>& args,
                                                      const std::string& program) {
  KeyCommand command;
  if (args.empty()) return usageError(program, "needs add, remove or list");
  const std::string& action = args[0];
  if (action == "list") {
    if (args.size() != 1) return usageError(program, "list takes no arguments");
    command.action = KeyCommand::Action::kList;
    return command;
  }
  if (action != "add" && action != "remove")
    return usageError(program, "'" + action + "': not add, remove or list");
  if (args.size() < 2) return usageError(program, action + " needs a KEY");
  command.key = args[1];
  if (command.key.empty()) return usageError(program, action + " needs a KEY, not ''");
  if (action == "remove") {
    if (args.size() != 2) return usageError(program, "remove takes one KEY");
    command.action = KeyCommand::Action::kRemove;
    return command;
  }
  command.action = KeyCommand::Action::kAdd;
  std::size_t next = 2;
  if (next < args.size()) {
    const std::string& option = args[next++];
    if (option == "--unlimited") {
      command.policy.kind = KeyPolicy::Kind::kUnlimited;
    } else if (option == "--blocked") {
      command.policy.kind = KeyPolicy::Kind::kBlocked;
    } else if (option == "--limit") {
      if (next >= args.size()) return usageError(program, "add: --limit needs N");
      const std::optional<int> limit = parseLimit(args[next++]);
      if (!limit)
        return usageError(program, "add: --limit '" + args[next - 1] +
                                       "': must be a whole number from 1 to " +
                                       std::to_string(kMaxLimit));
      command.policy.limit = *limit;
    } else {
      return usageError(program, "add: '" + option + "': not --limit N, --unlimited or --blocked");
    }
  }
  if (next != args.size())
    return usageError(program, "add: '" + args[next] +
                                   "': one of --limit N, --unlimited or --blocked at most");
  return command;
}

}  // namespace

std::optional<std::string> storedKeyOf(const std::string& word, const KeySource& source) {
  if (source.kind != KeySource::Kind::kHeader) {
    if (!isValidKey(word)) return std::nullopt;
    return word;
  }
  if (isHashedKey(word)) return word;
  if (word.empty() || encodeKey(word).size() > kMaxKeyBytes) return std::nullopt;
  return hashedKey(word, source.secret.value_or(KeySecret{}));
}

std::string keyWordRule(const KeySource& source) {
  if (source.kind != KeySource::Kind::kHeader) return keyRule();
  return "must be a header's value, at most " + std::to_string(kMaxKeyBytes) +
         " bytes once encoded as a request's is";
}

std::string keyCommandHelp(const std::string& program) {
  return "Usage: " + program + " --key add KEY [--limit N | --unlimited | --blocked] [--header]\n" +
         "       " + program + " --key remove KEY [--header]\n" +
         "       " + program + " --key list\n" +
         "\n"
         "Registers keys in the shared store (ACCESS_ROOT): every node sees a change\n"
         "within a second, without a reload.\n"
         "  add KEY             register KEY with the location's ACCESS_LIMIT, or:\n"
         "    --limit N         its own limit, N requests per window (1-" +
         std::to_string(kMaxLimit) + ")\n" +
         "    --unlimited       never counted, always admitted\n"
         "    --blocked         always refused with 403\n"
         "                      (adding a registered key replaces its policy)\n"
         "  remove KEY          unregister KEY (under ACCESS_KNOWN_KEYS_ONLY=1 it then\n"
         "                      gets 401)\n"
         "  list                every registered key and its policy\n"
         "Where keys come from a header (ACCESS_KEY=header:NAME), KEY is the client's\n"
         "credential as it sends it, stored and shown only as its hash under\n"
         "ACCESS_KEY_SECRET (\"h~\" and 32 hex digits; that form is accepted too).\n"
         "  --header            KEY is a header's value, whatever ACCESS_KEY says: for\n"
         "                      locations that set ACCESS_KEY=header:NAME themselves\n"
         "A key that starts with '-' goes after \"--\": --key add -- -h\n"
         "Exit status: 0 done, 1 the store failed or KEY was not registered,\n"
         "2 a bad command line (nothing was changed).\n";
}

std::variant<KeyCommand, CommandResult> parseKeyCommand(const std::vector<std::string>& args,
                                                        const std::string& program) {
  KeyCommand command;
  // "--" ends the options: "--key add -- -h" registers the key "-h".
  const auto options_end = std::find(args.begin(), args.end(), "--");
  if (std::find(args.begin(), options_end, "--help") != options_end ||
      std::find(args.begin(), options_end, "-h") != options_end)
    return command;
  std::vector<std::string> words;
  bool header = false;
  for (auto word = args.begin(); word != options_end; ++word) {
    if (*word == "--header")
      header = true;
    else
      words.push_back(*word);
  }
  if (options_end != args.end()) words.insert(words.end(), options_end + 1, args.end());
  auto parsed = parseKeyWords(words, program);
  if (auto* parsed_command = std::get_if<KeyCommand>(&parsed)) {
    if (header && parsed_command->action == KeyCommand::Action::kList)
      return usageError(program, "list takes no --header");
    parsed_command->header = header;
  }
  return parsed;
}

CommandResult runKeyCommand(Store& store, const KeyCommand& command, const std::string& program) {
  CommandResult result;
  try {
    switch (command.action) {
      case KeyCommand::Action::kHelp:
        result.out = keyCommandHelp(program);
        break;
      case KeyCommand::Action::kList: {
        std::vector<std::string> keys = store.keys();
        std::sort(keys.begin(), keys.end());
        for (const std::string& key : keys) {
          try {
            if (const std::optional<KeyPolicy> policy = store.readPolicy(key))
              result.out += key + " " + formatPolicy(*policy) + "\n";
          } catch (const StoreError& e) {
            // One bad entry must not hide the rest: named, and the exit says so.
            result.err += program + ": " + e.what() + "\n";
            result.exit_status = 1;
          }
        }
        break;
      }
      case KeyCommand::Action::kRemove:
        if (!store.removePolicy(command.key)) {
          result.exit_status = 1;
          result.err = program + ": " + command.key + " was not registered\n";
        } else {
          result.out = program + ": removed " + command.key + "\n";
        }
        break;
      case KeyCommand::Action::kAdd:
        store.writePolicy(command.key, command.policy);
        result.out = program + ": " + command.key + " " + formatPolicy(command.policy) + "\n";
        break;
    }
  } catch (const StoreError& e) {
    result = CommandResult{};
    result.exit_status = 1;
    result.err = program + ": " + e.what() + "\n";
  }
  return result;
}

CommandResult runStatus(Store& store, Second now, const StatusSettings& settings,
                        const std::optional<std::string>& key, const std::string& program) {
  CommandResult result;
  struct Row {
    std::string key;
    int used;  // -1: never counted (unlimited or blocked)
    int limit;
    std::string policy;
  };
  std::vector<Row> rows;
  const Window window = windowAt(now, settings.window_seconds);
  try {
    const std::vector<std::string> keys = key ? std::vector<std::string>{*key} : store.keys();
    for (const std::string& k : keys) {
      std::optional<KeyPolicy> policy;
      try {
        policy = store.readPolicy(k);
      } catch (const StoreError& e) {
        // One bad entry must not hide the rest: shown, and the exit says so.
        rows.push_back(Row{k, -1, settings.default_limit, std::string("unreadable: ") + e.what()});
        result.exit_status = 1;
        continue;
      }
      Row row{k, -1, settings.default_limit, describe(policy)};
      if (!policy || policy->kind == KeyPolicy::Kind::kLimit) {
        row.limit =
            policy ? effectiveLimit(*policy, settings.default_limit) : settings.default_limit;
        row.used = store.countTaken(k, window, 0, row.limit);
      }
      rows.push_back(row);
    }
  } catch (const StoreError& e) {
    result = CommandResult{};
    result.exit_status = 1;
    result.err = program + ": " + e.what() + "\n";
    return result;
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.used != b.used) return a.used > b.used;
    return a.key < b.key;
  });
  char line[512];
  std::snprintf(line, sizeof line,
                "window from %lld, %lld s long (this node's clock); ACCESS_LIMIT=%d\n",
                static_cast<long long>(window.start), static_cast<long long>(window.seconds),
                settings.default_limit);
  result.out = line;
  std::snprintf(line, sizeof line, "%-32s %8s %8s  %s\n", "KEY", "USED", "LIMIT", "POLICY");
  result.out += line;
  for (const Row& row : rows) {
    const std::string used = row.used < 0 ? "-" : std::to_string(row.used);
    const std::string limit = row.used < 0 ? "-" : std::to_string(row.limit);
    std::snprintf(line, sizeof line, "%-32s %8s %8s  %s%s\n", row.key.c_str(), used.c_str(),
                  limit.c_str(), row.policy.c_str(),
                  row.used >= 0 && row.used >= row.limit ? " (full)" : "");
    result.out += line;
  }
  return result;
}

}  // namespace access_limiter
