#pragma once

#include <map>
#include <memory>
#include <string>

#include "config.h"

namespace access_limiter {

// A settings file: the Apache "Define NAME VALUE" lines that Apache reads
// ahead of the conf's defaults (the Debian package's
// /etc/access-limiter/settings.conf), so that the operator commands, given
// --settings FILE, run with the settings Apache's requests run with.
// Blank lines and lines starting with '#' are skipped; any other line is an
// error. A value may be double-quoted; it may not refer to ${OTHER}.
using Settings = std::map<std::string, std::string>;

// Throws ConfigError naming `path`, the line number and what is wrong.
Settings parseSettings(const std::string& text, const std::string& path);

// Reads and parses `path`; throws ConfigError when it cannot be read.
Settings readSettingsFile(const std::string& path);

// The settings' values first, then `fallback` (the environment) for the
// names they do not define.
EnvLookup settingsThenEnv(Settings settings, EnvLookup fallback);

}  // namespace access_limiter
