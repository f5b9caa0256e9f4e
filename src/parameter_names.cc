#include "parameter_names.h"

#include <string>

namespace access_limiter {

namespace {

enum class PhpVersion { k7, k8 };

// The name PHP registers a variable under (parameter_names.h); an indexed
// name ("k[x]") gives its array's name ("k").
std::string phpName(std::string_view name, PhpVersion version) {
  const std::size_t start = name.find_first_not_of(' ');
  if (start == std::string_view::npos) return std::string();
  name.remove_prefix(start);
  name = name.substr(0, name.find('\0'));  // PHP's names end at a NUL byte
  std::string registered;
  registered.reserve(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == ' ' || c == '.') {
      registered += '_';
    } else if (c == '[') {
      if (name.find(']', i + 1) != std::string_view::npos) return registered;
      registered += '_';
      for (char rest : name.substr(i + 1)) {
        const bool replaced =
            version == PhpVersion::k8 && (rest == ' ' || rest == '.' || rest == '[');
        registered += replaced ? '_' : rest;
      }
      return registered;
    } else {
      registered += c;
    }
  }
  return registered;
}

// The name Rack (Ruby) takes a nested parameter's as: leading '[' and ']'
// dropped, then up to the next bracket ("[k]", "k]" and "k[x]" are all k).
std::string_view rackName(std::string_view name) {
  const std::size_t start = name.find_first_not_of("[]");
  if (start == std::string_view::npos) return std::string_view();
  name.remove_prefix(start);
  return name.substr(0, name.find_first_of("[]"));
}

}  // namespace

bool readAsParameter(std::string_view name, std::string_view parameter) {
  if (name == parameter || (!parameter.empty() && rackName(name) == parameter)) return true;
  const std::string wanted = phpName(parameter, PhpVersion::k8);
  if (wanted.empty()) return false;
  return phpName(name, PhpVersion::k8) == wanted || phpName(name, PhpVersion::k7) == wanted;
}

}  // namespace access_limiter
