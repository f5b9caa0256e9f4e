#include "help_text.h"

#include "clock.h"
#include "key.h"
#include "limiter.h"

namespace access_limiter {

std::string limiterHelp() {
  // help2man takes the "Usage:" line and each "or:" line as the synopsis.
  return "Usage: access-limiter [--help | --version]\n"
         "  or:  access-limiter [--settings FILE] (--check-config | --gc | --status [KEY])\n"
         "  or:  access-limiter [--settings FILE] --key add KEY [--limit N | --unlimited | --blocked]\n"
         "  or:  access-limiter [--settings FILE] --key (remove KEY | list)\n"
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
         "  --version       print the version\n"
         "  --help          print this help\n"
         "\n"
         "A key parameter is 1 to " + std::to_string(kMaxKeyBytes) +
         " bytes of A-Z a-z 0-9 . _ ~ -, not starting with '.';\n"
         "a header's value or an address becomes a key with other bytes as ~HH.\n"
         "\n"
         "Environment (Apache: SetEnv):\n"
         "  ACCESS_LIMIT         requests per key per window (1-" + std::to_string(kMaxLimit) +
         "; default 10)\n"
         "  ACCESS_WINDOW        the window in seconds, aligned on the epoch (1-" +
         std::to_string(kMaxWindowSeconds) + "; default 1;\n"
         "                       60 = per minute)\n"
         "  ACCESS_ROOT          store directory, shared by all web nodes (default /tmp/access;\n"
         "                       it must exist: requests never create it)\n"
         "  ACCESS_KEY           where the key comes from (default app_id):\n"
         "                         NAME or param:NAME  a query or form parameter\n"
         "                         header:NAME         a request header, e.g. header:X-Api-Key\n"
         "                         remote-addr         the client's address\n"
         "  ACCESS_KNOWN_KEYS_ONLY  1 = a key not registered with --key add gets 401\n"
         "                       and writes nothing (default 0)\n"
         "  ACCESS_DRY_RUN       1 = count as usual but admit everything; the header\n"
         "                       Access-Limiter-Dry-Run gives the status enforcing would\n"
         "                       have answered (default 0)\n"
         "  ACCESS_FAIL_OPEN     1 = admit when the store fails (default 0: answer 503)\n"
         "  ACCESS_STORE_TIMEOUT seconds a request waits on the store before that\n"
         "                       failure answer (0.1-60, decimals allowed; default 1;\n"
         "                       0 = no bound, saving a thread per request on a local disk)\n"
         "  ACCESS_NODE_CACHE    file in which this node's processes share what they know\n"
         "                       of current windows (default /dev/shm/access-limiter-cache.UID;\n"
         "                       off = ask the store every time)\n"
         "  ACCESS_ERROR_MAIL    mail server errors to this address (default: off)\n"
         "  ACCESS_MAIL_COMMAND  sendmail-compatible program (default /usr/sbin/sendmail)\n"
         "  ACCESS_MAIL_INTERVAL at most one mail per cause per this many seconds\n"
         "                       (default 600; 0 = every error; the log gets every line)\n"
         "  ACCESS_APP_ROOT      guarding: only scripts under this directory run (required)\n"
         "  ACCESS_APP_INTERPRETER  guarding: the program that runs a script, e.g.\n"
         "                       /usr/bin/php-cgi (default: the script runs itself)\n"
         "In a guarded location, SetEnv values of the location (which reach the handler\n"
         "as REDIRECT_ACCESS_*) come before those of the handler's own URL.\n"
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
