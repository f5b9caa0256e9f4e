/* exec-timer RUNS PROGRAM... : runs each PROGRAM (no arguments, this
 * environment, stdout to /dev/null) RUNS times, interleaved A B A B ... so
 * both see the same machine noise, and prints per program one line:
 *   <program> median_us=<n> p90_us=<n> max_rss_kib=<n>
 * Wall time covers spawn to exit; max RSS is the child's peak (wait4). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static int compare_long(const void* a, const void* b) {
  long x = *(const long*)a, y = *(const long*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: exec-timer RUNS PROGRAM...\n");
    return 2;
  }
  int runs = atoi(argv[1]);
  int programs = argc - 2;
  if (runs < 1) {
    fprintf(stderr, "exec-timer: RUNS must be at least 1\n");
    return 2;
  }
  long* micros = calloc((size_t)runs * programs, sizeof(long));
  long* max_rss = calloc(programs, sizeof(long));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  for (int run = 0; run < runs; ++run) {
    for (int p = 0; p < programs; ++p) {
      char* child_argv[] = {argv[2 + p], NULL};
      struct timespec start, end;
      clock_gettime(CLOCK_MONOTONIC, &start);
      pid_t pid;
      if (posix_spawn(&pid, argv[2 + p], &actions, NULL, child_argv, environ) != 0) {
        perror(argv[2 + p]);
        return 1;
      }
      int status;
      struct rusage usage;
      if (wait4(pid, &status, 0, &usage) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "exec-timer: %s failed\n", argv[2 + p]);
        return 1;
      }
      clock_gettime(CLOCK_MONOTONIC, &end);
      micros[p * runs + run] =
          (end.tv_sec - start.tv_sec) * 1000000L + (end.tv_nsec - start.tv_nsec) / 1000L;
      if (usage.ru_maxrss > max_rss[p]) max_rss[p] = usage.ru_maxrss;
    }
  }
  for (int p = 0; p < programs; ++p) {
    long* mine = micros + p * runs;
    qsort(mine, runs, sizeof(long), compare_long);
    printf("%s median_us=%ld p90_us=%ld max_rss_kib=%ld\n", argv[2 + p], mine[runs / 2],
           mine[(runs * 9) / 10], max_rss[p]);
  }
  return 0;
}
