/* The floor of the benchmarks: the least a CGI can do, printing one fixed
 * 200 JSON response. scripts/bench-cgi and scripts/bench-apache compare
 * access-limiter with it, measured side by side in the same run. */
#include <unistd.h>

static const char kResponse[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Cache-Control: no-store\r\n"
    "\r\n"
    "{\"message\":\"OK\"}\n";

int main(void) {
  return write(1, kResponse, sizeof kResponse - 1) == (ssize_t)(sizeof kResponse - 1) ? 0 : 1;
}
