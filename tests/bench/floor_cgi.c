/* The floor of the benchmarks: the least a CGI can do, printing one fixed
 * 200 JSON response. scripts/bench-cgi and scripts/bench-apache compare
 * access-limiter with it, measured side by side in the same run. */
#include "floor_response.h"

int main(void) { return writeFloorResponse(); }
