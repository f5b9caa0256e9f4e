/* The floor of scripts/bench-gluster: a CGI that does the least a decision
 * on a shared store must do, one exclusive create of a new empty file, by
 * full path, in an existing directory: $ACCESS_ROOT/floor/<pid>-<ns>. Then
 * it prints a fixed 200 JSON response, as floor-cgi does. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "floor_response.h"

int main(void) {
  const char* root = getenv("ACCESS_ROOT");
  if (root == NULL) return 2;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  char path[4096];
  snprintf(path, sizeof path, "%s/floor/%d-%ld", root, (int)getpid(), now.tv_nsec);
  int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0664);
  if (fd < 0) return 1;
  close(fd);
  return writeFloorResponse();
}
