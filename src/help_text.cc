#include "help_text.h"

#include "clock.h"
#include "config.h"
#include "key.h"
#include "bounds.h"

namespace access_limiter {

std::string limiterHelp() {
  // help2man takes the "Usage:" line and each "or:" line as the synopsis.
  return "Usage: access-limiter [--help | --version]\n"
         "  or:  access-limiter [--settings FILE] (--check-config | --gc | --status [KEY])\n"
         "  or:  access-limiter [--settings FILE] --key add KEY [--limit N | --unlimited | --blocked] [--header]\n"
         "  or:  access-limiter [--settings FILE] --key (remove KEY [--header] | list)\n"
         "  or:  access-limiter [--settings FILE] --fastcgi [ADDRESS] [--workers N]\n"
         "\n"
         "Run by a web server as a CGI program, it admits at most ACCESS_LIMIT\n"
         "requests per key per window (ACCESS_WINDOW seconds) and answers JSON:\n"
         "  200 OK, 429 Too Many Requests (with Retry-After), 401 without a key\n"
         "  (or an unknown one), 403 for a blocked key, 400 for a malformed key,\n"
         "  503 when the store fails.\n"
         "As Apache's Action handler for a protected location (Action access-limited\n"
         "URL virtual; SetHandler access-limited), it guards an application instead:\n"
         "a rejected request gets the JSON above and the application never starts;\n"
         "an admitted one runs the requested script under ACCESS_APP_ROOT (or\n"
         "ACCESS_APP_INTERPRETER with it), which answers as if run directly.\n"
         "Under a web server (GATEWAY_INTERFACE set) arguments are ignored: the\n"
         "commands below run only from a shell.\n"
         "From a shell, with no arguments, it answers one request as a GET:\n"
         "  QUERY_STRING='app_id=demo' ACCESS_ROOT=/tmp/access access-limiter\n"
         "\n"
         "With --fastcgi it runs in the foreground as a persistent FastCGI authorizer\n"
         "(Apache's mod_authnz_fcgi), for php-fpm, proxied applications or anything\n"
         "else Apache serves: a supervisor and N workers (default: one per core)\n"
         "answer 200 with Variable-RATELIMIT and Variable-RATELIMIT_POLICY, which\n"
         "Apache adds to the application's answer, or the JSON refusal above.\n"
         "ADDRESS is 127.0.0.1:PORT (loopback only) or a unix socket's path (made\n"
         "0660); without one it serves the listening socket it was started with\n"
         "(systemd's LISTEN_FDS, or descriptor 0), as it does when started with no\n"
         "arguments on a listening socket (mod_fcgid, spawn-fcgi). Its settings come\n"
         "from the environment or --settings FILE; a request's own parameters may set\n"
         "only " + describeRequestSettings() + ".\n"
         "A store that hangs ends that request at ACCESS_STORE_TIMEOUT and its worker\n"
         "is replaced; a worker that dies is replaced, logged and mailed. SIGTERM:\n"
         "each worker finishes its request, then it exits.\n"
         "\n"
         "Commands:\n"
         "  --check-config  print the effective configuration; exit 1 if invalid\n"
         "  --gc            remove past windows of every key, windows more than " +
         std::to_string(kClockSkewToleranceSeconds) +
         " s\n"
         "                  ahead of this clock, and idle keys; exit 1 if any entry\n"
         "                  could not be collected. Requests never collect: run it\n"
         "                  every minute on one node (the package's timer does)\n"
         "  --status [KEY]  each key's use of its current window against its limit,\n"
         "                  busiest first, and its policy\n"
         "  --key ...       register keys: their own limit, unlimited or blocked\n"
         "                  (see --key --help); every node sees a change within 1 s\n"
         "  --settings FILE  before a command: take the settings from FILE, as Apache\n"
         "                  does (lines \"Define NAME VALUE\"; the package's\n"
         "                  /etc/access-limiter/settings.conf), not from the\n"
         "                  environment; a name FILE leaves out takes its default\n"
         "  --fastcgi       serve as a FastCGI authorizer (above) until SIGTERM\n"
         "  --version       print the version\n"
         "  --help          print this help\n"
         "\n"
         "A key parameter is 1 to " + std::to_string(kMaxKeyBytes) +
         " bytes of A-Z a-z 0-9 . _ ~ -, not starting with '.';\n"
         "an address becomes a key with other bytes as ~HH; a header's value is a\n"
         "client's credential, stored and shown only as its hash under ACCESS_KEY_SECRET\n"
         "(h~ and 32 hex digits). A parameter key is refused (400) when the\n"
         "application could read another value for it: a name PHP reads as the same\n"
         "(app.id, \"app id\", app_id[]), the key twice or after ';', or, guarding, in\n"
         "a form body (read if at most 4096 bytes; a larger one is a 413) or a cookie.\n"
         "\n"
         "Environment (Apache: SetEnv):\n" +
         describeSettingsForHelp() +
         "In a guarded location, SetEnv values of the location (which reach the handler\n"
         "as REDIRECT_ACCESS_*) come before those of the handler's own URL. The\n"
         "application gets only the location's ACCESS_*, never ACCESS_KEY_SECRET.\n"
         "\n"
         "Nodes sharing ACCESS_ROOT must keep their clocks within " +
         std::to_string(kClockSkewToleranceSeconds) + " s of each other (NTP).\n";
}

std::string healthHelp() {
  return "Usage: access-health [--help | --version]\n"
         "\n"
         "Run by a web server as a CGI program, it proves that ACCESS_ROOT is\n"
         "writable by creating and removing a probe file, and answers\n"
         "200 {\"status\":\"ok\"} or 503 with the reason. It is never rate-limited;\n"
         "point the load balancer's health check at it. Under a web server\n"
         "(GATEWAY_INTERFACE set) arguments are ignored.\n";
}

}  // namespace access_limiter
