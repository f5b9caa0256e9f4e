/* The fixed answer of the benchmark floors (floor_cgi.c, floor_create.c):
 * what the limiter's 200 looks like, and nothing else. */
#ifndef ACCESS_LIMITER_FLOOR_RESPONSE_H
#define ACCESS_LIMITER_FLOOR_RESPONSE_H

#include <unistd.h>

static const char kFloorResponse[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Cache-Control: no-store\r\n"
    "\r\n"
    "{\"message\":\"OK\"}\n";

/* 0 when the whole answer was written to stdout, else 1. */
static int writeFloorResponse(void) {
  const ssize_t length = (ssize_t)(sizeof kFloorResponse - 1);
  return write(1, kFloorResponse, sizeof kFloorResponse - 1) == length ? 0 : 1;
}

#endif
