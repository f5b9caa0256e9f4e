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
      if (next >= args.size()) return usageError(program, "add: --limit needs N or a list N/W,...");
      const std::string& value = args[next++];
      if (value.find('/') != std::string::npos) {
        std::string problem;
        std::optional<LimitList> limits = parseLimitList(value, problem);
        if (!limits)
          return usageError(program, "add: --limit '" + value + "': " + problem +
                                         " (e.g. 10/1s,1000/1h,20000/1d)");
        command.policy.limits = std::move(*limits);
      } else {
        const std::optional<int> limit = parseLimit(value);
        if (!limit)
          return usageError(program, "add: --limit '" + value +
                                         "': must be a whole number from 1 to " +
                                         std::to_string(kMaxLimit) +
                                         ", or a list N/W,... (e.g. 10/1s,1000/1h,20000/1d)");
        command.policy.limit = *limit;
      }
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
  return "Usage: " + program + " --key add KEY [--limit N|LIST | --unlimited | --blocked] [--header]\n" +
         "       " + program + " --key remove KEY [--header]\n" +
         "       " + program + " --key list\n" +
         "\n"
         "Registers keys in the shared store (ACCESS_ROOT): every node sees a change\n"
         "within a second, without a reload.\n"
         "  add KEY             register KEY with the location's ACCESS_LIMIT, or:\n"
         "    --limit N         its own limit, N requests per window (1-" +
         std::to_string(kMaxLimit) + ")\n" +
         "    --limit LIST      its own limits, all enforced, replacing the location's:\n"
         "                      N/W,... with W in seconds or with s, m, h, d, up to 1d\n"
         "                      (e.g. 10/1s,1000/1h,20000/1d)\n" +
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
    std::string used;   // "-": never counted (unlimited or blocked)
    std::string limit;
    std::string policy;
    int busiest = -1;  // what its shortest window counted (-1: never counted)
    bool full = false;
  };
  const LimitList location = settings.limit_list.empty()
                                 ? LimitList{LimitRule{settings.default_limit,
                                                       settings.window_seconds, true}}
                                 : settings.limit_list;
  const auto limitText = [](const LimitList& limits) {
    return limits.size() == 1 && limits.front().plain ? std::to_string(limits.front().limit)
                                                       : formatLimitList(limits);
  };
  std::vector<Row> rows;
  try {
    const std::vector<std::string> keys = key ? std::vector<std::string>{*key} : store.keys();
    for (const std::string& k : keys) {
      std::optional<KeyPolicy> policy;
      try {
        policy = store.readPolicy(k);
      } catch (const StoreError& e) {
        // One bad entry must not hide the rest: shown, and the exit says so.
        rows.push_back(Row{k, "-", "-", std::string("unreadable: ") + e.what()});
        result.exit_status = 1;
        continue;
      }
      Row row{k, "-", "-", describe(policy)};
      if (!policy || policy->kind == KeyPolicy::Kind::kLimit) {
        const LimitList limits = effectiveLimits(policy, location, settings.window_seconds);
        row.used.clear();
        row.limit = limitText(limits);
        for (const LimitRule& rule : limits) {
          const int used = store.countTaken(k, windowAt(now, rule.window_seconds), 0, rule.limit);
          row.used += (row.used.empty() ? "" : ",") + std::to_string(used);
          if (row.busiest < 0) row.busiest = used;
          row.full = row.full || used >= rule.limit;
        }
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
    if (a.busiest != b.busiest) return a.busiest > b.busiest;
    return a.key < b.key;
  });
  char line[512];
  if (location.size() == 1 && location.front().plain) {
    const Window window = windowAt(now, settings.window_seconds);
    std::snprintf(line, sizeof line,
                  "window from %lld, %lld s long (this node's clock); ACCESS_LIMIT=%d\n",
                  static_cast<long long>(window.start), static_cast<long long>(window.seconds),
                  settings.default_limit);
  } else {
    std::snprintf(line, sizeof line,
                  "current windows at %lld (this node's clock); ACCESS_LIMIT=%s\n",
                  static_cast<long long>(now), formatLimitList(location).c_str());
  }
  result.out = line;
  std::snprintf(line, sizeof line, "%-32s %8s %8s  %s\n", "KEY", "USED", "LIMIT", "POLICY");
  result.out += line;
  for (const Row& row : rows) {
    std::snprintf(line, sizeof line, "%-32s %8s %8s  %s%s\n", row.key.c_str(), row.used.c_str(),
                  row.limit.c_str(), row.policy.c_str(), row.full ? " (full)" : "");
    result.out += line;
  }
  return result;
}

}  // namespace access_limiter
