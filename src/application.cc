#include "application.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>

#include "logging.h"
#include "signal_safe.h"

extern char** environ;

namespace access_limiter {

namespace {

const char kRedirectPrefix[] = "REDIRECT_";
constexpr std::size_t kRedirectPrefixBytes = sizeof kRedirectPrefix - 1;

// Apache's own records of the redirect (REDIRECT_ + these): not variables of
// the protected location, so never handed on unprefixed.
bool isRedirectRecord(const std::string& name) {
  return name == "STATUS" || name == "URL" || name == "QUERY_STRING" || name == "HANDLER" ||
         name == "ERROR_NOTES";
}

// Meta-variables that describe the handler, not the script: replaced.
bool describesHandler(const std::string& name) {
  return name == "SCRIPT_NAME" || name == "SCRIPT_FILENAME" || name == "PATH_INFO" ||
         name == "PATH_TRANSLATED" || name == "CONTEXT_DOCUMENT_ROOT" || name == "CONTEXT_PREFIX";
}

bool isSetting(const std::string& name) { return name.compare(0, 7, "ACCESS_") == 0; }

// The protected location's context (its Alias or DocumentRoot), which a
// direct run gets as CONTEXT_PREFIX and CONTEXT_DOCUMENT_ROOT; the handler's
// are its own URL's. The guard's conf passes them on from the location
// (README, "Protect an API"):
//   SetEnvIfExpr "%{CONTEXT_PREFIX} =~ /(.*)/" ACCESS_CONTEXT_PREFIX=$1
//   SetEnvIfExpr "%{CONTEXT_DOCUMENT_ROOT} =~ /(.*)/" ACCESS_CONTEXT_DOCUMENT_ROOT=$1
const char kContextPrefix[] = "ACCESS_CONTEXT_PREFIX";
const char kContextDocumentRoot[] = "ACCESS_CONTEXT_DOCUMENT_ROOT";

// A name without its REDIRECT_ prefixes: each internal redirect (the
// Action's, or a script's local "Location:" redirect) adds one.
std::string withoutRedirects(const std::string& name) {
  std::size_t at = 0;
  while (name.compare(at, kRedirectPrefixBytes, kRedirectPrefix) == 0) at += kRedirectPrefixBytes;
  return name.substr(at);
}

using Reason = ApplicationRefused::Reason;

[[noreturn]] void refuse(Reason reason, const std::string& detail,
                         const std::string& cause) {
  logLine("refused to run an application: " + cause);
  throw ApplicationRefused(reason, detail);
}

std::string resolvedPath(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return std::string();
  return resolved;
}

// The environment of a direct run of the script (see execApplication).
std::vector<std::string> applicationEnvironment(const Application& app, bool interpreted) {
  std::map<std::string, std::string> vars;
  std::map<std::string, std::string> of_location;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const std::size_t equals = text.find('=');
    if (equals == std::string::npos) continue;
    const std::string name = text.substr(0, equals);
    const std::string value = text.substr(equals + 1);
    const std::string bare = withoutRedirects(name);
    // ACCESS_KEY_SECRET never, at any depth; below the first redirect, no
    // setting at all: those are a handler's own, from an earlier run (a
    // guarded script's local redirect), never a location's for this script.
    if (bare == "ACCESS_KEY_SECRET") continue;
    if (isSetting(bare) && bare.size() + kRedirectPrefixBytes < name.size()) continue;
    if (name.compare(0, kRedirectPrefixBytes, kRedirectPrefix) == 0) {
      const std::string unprefixed = name.substr(kRedirectPrefixBytes);
      if (!isRedirectRecord(unprefixed))
        of_location[unprefixed] = value;
      else if (interpreted && unprefixed == "STATUS")
        vars[name] = value;  // php-cgi's cgi.force_redirect wants it
    } else if (!describesHandler(name) && !isSetting(name)) {
      // The handler's own ACCESS_* settings are not the application's: it
      // gets only those its location set, as in a direct run.
      vars[name] = value;
    }
  }
  for (const auto& [name, value] : of_location) vars[name] = value;
  for (const auto& [from, to] :
       {std::pair<const char*, const char*>{kContextPrefix, "CONTEXT_PREFIX"},
        {kContextDocumentRoot, "CONTEXT_DOCUMENT_ROOT"}}) {
    const auto given = vars.find(from);
    if (given == vars.end()) continue;
    vars[to] = given->second;
    vars.erase(given);
  }
  if (vars.count("CONTEXT_DOCUMENT_ROOT") == 0) {
    // Without the conf's lines: a script under DOCUMENT_ROOT has the
    // server's context, as Apache gives it; an aliased one gets none.
    const auto root = vars.find("DOCUMENT_ROOT");
    if (root != vars.end() && root->second + app.script_name == app.script_file) {
      vars["CONTEXT_PREFIX"] = "";
      vars["CONTEXT_DOCUMENT_ROOT"] = root->second;
    }
  }
  vars["SCRIPT_NAME"] = app.script_name;
  vars["SCRIPT_FILENAME"] = app.script_file;
  if (!app.path_info.empty()) {
    vars["PATH_INFO"] = app.path_info;
    const auto root = vars.find("DOCUMENT_ROOT");
    if (root != vars.end()) vars["PATH_TRANSLATED"] = root->second + app.path_info;
  }
  std::vector<std::string> environment;
  environment.reserve(vars.size());
  for (const auto& [name, value] : vars) environment.push_back(name + "=" + value);
  return environment;
}

}  // namespace

bool runAsHandler(const EnvLookup& env) {
  const char* handler = env("REDIRECT_HANDLER");
  return handler != nullptr && handler[0] != '\0';
}

EnvLookup handlerSettings(const EnvLookup& env) {
  return [env](const char* name) -> const char* {
    if (std::strncmp(name, "ACCESS_", 7) == 0) {
      const std::string prefixed = std::string(kRedirectPrefix) + name;
      if (const char* value = env(prefixed.c_str())) return value;
    }
    return env(name);
  };
}

Application findApplication(const EnvLookup& env, const Config& config) {
  if (config.app_root.empty())
    throw ConfigError(
        "ACCESS_APP_ROOT is not set: a guarded location must name the directory whose "
        "scripts may run (SetEnv ACCESS_APP_ROOT DIR)");
  const std::string root = resolvedPath(config.app_root);
  struct stat st {};
  if (root.empty() || stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw ConfigError("ACCESS_APP_ROOT=\"" + config.app_root + "\": not a directory (" +
                      std::strerror(errno == 0 ? ENOTDIR : errno) + ")");

  Application app;
  const std::string url_path = envString(env, "PATH_INFO");
  std::string file = envString(env, "PATH_TRANSLATED");
  if (file.empty() || file.front() != '/')
    refuse(Reason::kMissing, "no script was requested", "no PATH_TRANSLATED for " + url_path);
  // The script is the longest prefix of PATH_TRANSLATED that exists; the
  // rest is path info, as Apache splits a direct request.
  for (;;) {
    if (stat(file.c_str(), &st) == 0) break;
    const std::size_t slash = file.rfind('/');
    if ((errno != ENOENT && errno != ENOTDIR) || slash == 0 || slash == std::string::npos)
      refuse(Reason::kMissing, "no such script: " + url_path,
             "stat(" + file + "): " + std::strerror(errno));
    app.path_info = file.substr(slash) + app.path_info;
    file.resize(slash);
  }
  if (!S_ISREG(st.st_mode))
    refuse(Reason::kMissing, "no such script: " + url_path,
           app.path_info.empty() ? file + " is not a regular file"
                                 : "no file " + file + app.path_info);
  app.script_file = file;
  app.resolved_file = resolvedPath(file);
  // Apache hands an nph- script's output to the client unparsed; behind the
  // limiter its status line would come after our header lines (a 500).
  for (const std::string* path : {&app.script_file, &app.resolved_file}) {
    if (path->compare(path->rfind('/') + 1, 4, "nph-") == 0)
      refuse(Reason::kForbidden, "nph- scripts cannot run behind the limiter: " + url_path,
             *path + " is an nph- script, whose own HTTP status line cannot follow the "
                     "limiter's header lines");
  }
  if (app.resolved_file.compare(0, root.size() + 1, root + "/") != 0)
    refuse(Reason::kForbidden, "the script may not run here",
           file + " resolves to " + app.resolved_file + ", outside ACCESS_APP_ROOT " + root);
  const bool interpreted = !config.app_interpreter.empty();
  if (access(app.resolved_file.c_str(), interpreted ? R_OK : X_OK) != 0)
    refuse(Reason::kForbidden, "the script may not run here",
           app.resolved_file + (interpreted ? " is not readable: " : " is not executable: ") +
               std::strerror(errno));
  const std::size_t extra = app.path_info.size();
  app.script_name = url_path.size() >= extra &&
                            url_path.compare(url_path.size() - extra, extra, app.path_info) == 0
                        ? url_path.substr(0, url_path.size() - extra)
                        : url_path;
  return app;
}

void execApplication(const Application& app, const Config& config,
                     const std::string& header_lines, const std::string& body) {
  const bool interpreted = !config.app_interpreter.empty();
  std::vector<std::string> environment = applicationEnvironment(app, interpreted);
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string program = interpreted ? config.app_interpreter : app.resolved_file;
  std::string script = app.resolved_file;
  std::vector<char*> argv{program.data()};
  if (interpreted) argv.push_back(script.data());
  argv.push_back(nullptr);

  if (!body.empty()) {
    const int fd = memfd_create("access-limiter-request-body", 0);
    if (fd < 0) return;
    const bool ready = writeAll(fd, body.data(), body.size()) && lseek(fd, 0, SEEK_SET) == 0 &&
                       dup2(fd, STDIN_FILENO) == STDIN_FILENO;
    const int error = errno;
    close(fd);
    if (!ready) {
      errno = error;
      return;
    }
  }
  const std::string directory = app.resolved_file.substr(0, app.resolved_file.rfind('/') + 1);
  if (chdir(directory.c_str()) != 0) return;
  if (!writeAll(STDOUT_FILENO, header_lines.data(), header_lines.size())) return;
  execve(program.c_str(), argv.data(), envp.data());
}

}  // namespace access_limiter
