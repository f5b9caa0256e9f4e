#include "settings_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <utility>
#include <vector>

namespace access_limiter {

namespace {

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

bool sameIgnoringCase(const std::string& word, const char* expected) {
  if (word.size() != std::strlen(expected)) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != expected[i]) return false;
  }
  return true;
}

// The line's words as Apache splits a directive's arguments: on blanks,
// a word in double or single quotes kept whole. False when a quote is not
// closed.
bool splitWords(const std::string& line, std::vector<std::string>& words) {
  std::size_t at = 0;
  while (true) {
    while (at < line.size() && isBlank(line[at])) ++at;
    if (at == line.size()) return true;
    if (line[at] == '"' || line[at] == '\'') {
      const std::size_t close = line.find(line[at], at + 1);
      if (close == std::string::npos) return false;
      words.push_back(line.substr(at + 1, close - at - 1));
      at = close + 1;
    } else {
      std::size_t end = at;
      while (end < line.size() && !isBlank(line[end])) ++end;
      words.push_back(line.substr(at, end - at));
      at = end;
    }
  }
}

// The next line as Apache reads a configuration line: a physical line
// that ends in one backslash (not two) goes on with the next, the backslash
// and the newline removed, a comment's line too. `number` becomes the number
// of the line's first physical line. False at the end of the text.
bool nextLogicalLine(std::istringstream& lines, std::string& line, int& number, int& read) {
  line.clear();
  std::string physical;
  bool any = false;
  number = read + 1;
  while (std::getline(lines, physical)) {
    any = true;
    ++read;
    if (!physical.empty() && physical.back() == '\r') physical.pop_back();
    const std::size_t size = physical.size();
    const bool continued = !lines.eof() && size >= 2 && physical[size - 1] == '\\' &&
                           physical[size - 2] != '\\';
    if (!continued) {
      line += physical;
      return true;
    }
    line += physical.substr(0, size - 1);
  }
  return any;
}

}  // namespace

Settings parseSettings(const std::string& text, const std::string& path) {
  Settings settings;
  std::istringstream lines(text);
  std::string line;
  int number = 0, lines_read = 0;
  while (nextLogicalLine(lines, line, number, lines_read)) {
    const auto fail = [&](const std::string& problem) {
      throw ConfigError(path + ":" + std::to_string(number) + ": " + problem);
    };
    std::size_t first = 0;
    while (first < line.size() && isBlank(line[first])) ++first;
    if (first == line.size() || line[first] == '#') continue;
    std::vector<std::string> words;
    if (!splitWords(line, words)) fail("a quote is not closed");
    if (!sameIgnoringCase(words[0], "define"))
      fail("only \"Define NAME VALUE\" lines and # comments belong here, not \"" + words[0] + "\"");
    if (words.size() != 3)
      fail("give \"Define NAME VALUE\", the value one word");
    if (words[2].find("${") != std::string::npos)
      fail(words[1] + ": a value here may not refer to another one (${...})");
    // The conf hands each value on with SetEnv, which takes one word.
    if (words[2].empty() || words[2].find_first_of(" \t") != std::string::npos)
      fail(words[1] + ": a value must be one word, without spaces");
    settings[words[1]] = words[2];
  }
  return settings;
}

Settings readSettingsFile(const std::string& path) {
  const auto fail = [&](const char* problem) {
    throw ConfigError("--settings " + path + ": " + problem);
  };
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer; a regular
  // file reads the same either way.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) fail(std::strerror(errno));
  struct stat file_status {};
  std::string text;
  bool regular = fstat(fd, &file_status) == 0 && S_ISREG(file_status.st_mode);
  // A settings file is a few hundred bytes; one larger than this is a mistake.
  constexpr std::size_t kMaxSettingsBytes = 64 * 1024;
  char buffer[4096];
  ssize_t got = 0;
  while (regular && text.size() <= kMaxSettingsBytes &&
         (got = read(fd, buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<std::size_t>(got));
  const int read_errno = errno;
  close(fd);
  if (!regular) fail("not a regular file");
  if (got < 0) fail(std::strerror(read_errno));
  if (text.size() > kMaxSettingsBytes) fail("larger than 64 KiB: not a settings file");
  return parseSettings(text, path);
}

EnvLookup settingsLookup(Settings settings) {
  auto shared = std::make_shared<const Settings>(std::move(settings));
  return [shared](const char* name) -> const char* {
    const auto found = shared->find(name);
    return found != shared->end() ? found->second.c_str() : nullptr;
  };
}

}  // namespace access_limiter
