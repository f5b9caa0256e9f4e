#pragma once

#include <map>
#include <memory>
#include <string>

#include "config.h"

namespace access_limiter {

// A settings file: the Apache "Define NAME VALUE" lines that Apache reads
// ahead of the conf's defaults (the Debian package's
// /etc/access-limiter/settings.conf), so that the operator commands, given
// --settings FILE, run with the settings Apache's requests run with, not
// with what the operator's shell happens to hold.
// Blank lines and lines starting with '#' are skipped; any other line is an
// error. A value is one word (the conf hands it on with SetEnv), quoted or
// not; it may not refer to ${OTHER}.
using Settings = std::map<std::string, std::string>;

// Throws ConfigError naming `path`, the line number and what is wrong.
Settings parseSettings(const std::string& text, const std::string& path);

// Reads and parses `path`; throws ConfigError when it cannot be read.
Settings readSettingsFile(const std::string& path);

// A lookup of the settings alone: a name the file does not define is unset,
// so it takes its default, as it does for Apache's requests (the conf sets
// every name it passes). The caller's environment plays no part.
EnvLookup settingsLookup(Settings settings);

}  // namespace access_limiter
