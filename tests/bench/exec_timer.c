/* exec-timer [--raw] [--keys K] RUNS PROGRAM... : runs each PROGRAM (no
 * arguments, this environment, stdout and stderr to /dev/null) RUNS times, interleaved
 * A B A B ... so all see the same machine noise, and prints per program one
 * line:
 *   <program> median_us=<n> p90_us=<n> max_rss_kib=<n>
 * With --raw, one line per run instead, in run order: <program> <us>.
 * With --keys K, run i gets QUERY_STRING=app_id=bench-<i mod K>, spreading
 * requests over K keys.
 *
 * Wall time covers fork to exit. Max RSS is the child's peak from wait4;
 * Linux counts the pre-exec image too, so the timer is static and small and
 * forks (no vfork, which would count the parent's whole image). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
  int keys = 0;
  int raw = 0;
  if (argc > 1 && strcmp(argv[1], "--raw") == 0) {
    raw = 1;
    ++argv;
    --argc;
  }
  if (argc > 2 && strcmp(argv[1], "--keys") == 0) {
    keys = atoi(argv[2]);
    argv += 2;
    argc -= 2;
  }
  if (argc < 3) {
    fprintf(stderr, "usage: exec-timer [--raw] [--keys K] RUNS PROGRAM...\n");
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
  int null_fd = open("/dev/null", O_RDWR);
  char query[64];
  for (int run = 0; run < runs; ++run) {
    if (keys > 0) {
      snprintf(query, sizeof query, "app_id=bench-%d", run % keys);
      setenv("QUERY_STRING", query, 1);
    }
    for (int p = 0; p < programs; ++p) {
      char* child_argv[] = {argv[2 + p], NULL};
      struct timespec start, end;
      clock_gettime(CLOCK_MONOTONIC, &start);
      pid_t pid = fork();
      if (pid < 0) {
        perror("fork");
        return 1;
      }
      if (pid == 0) {
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        dup2(null_fd, 2);  /* a log line per run would drown the figures */
        execve(argv[2 + p], child_argv, environ);
        _exit(127);
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
  if (raw) {
    for (int run = 0; run < runs; ++run)
      for (int p = 0; p < programs; ++p) printf("%s %ld\n", argv[2 + p], micros[p * runs + run]);
    return 0;
  }
  for (int p = 0; p < programs; ++p) {
    long* mine = micros + p * runs;
    qsort(mine, runs, sizeof(long), compare_long);
    printf("%s median_us=%ld p90_us=%ld max_rss_kib=%ld\n", argv[2 + p], mine[runs / 2],
           mine[(runs * 9) / 10], max_rss[p]);
  }
  return 0;
}
