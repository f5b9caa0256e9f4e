/* fcgi-load [--clients C] [--keys K] [--flood-every F] [--nokey-every M]
 *           [--limit L] REQUESTS 127.0.0.1:PORT
 * sends REQUESTS FastCGI Authorizer requests (role 2) to the authorizer at
 * PORT as Apache's mod_authnz_fcgi does: one connection per request,
 * BEGIN_REQUEST without KEEP_CONN, PARAMS with REQUEST_METHOD=GET and
 * QUERY_STRING=app_id=kN, an empty PARAMS, then it reads until
 * END_REQUEST (and on to the server's close, so the TIME_WAIT is the
 * server's, as Apache's). C clients (threads, default 8) share the count.
 * Request i takes key k(i mod K) (K default 10000); every F-th request
 * (default 0: none) the one key "flood", every M-th (default 0: none) no
 * QUERY_STRING at all (a 401). --limit L adds the parameter ACCESS_LIMIT=L
 * (as SetEnvIf in Apache's location would). Prints one line:
 *   requests=<n> seconds=<s> rate=<rps> s200=<n> s401=<n> s429=<n> other=<n> failed=<n>
 * Exit: 0 when every request got an answer, 1 otherwise (failed > 0), 2 on
 * bad arguments. A status is the "Status: NNN" line the answer starts
 * with, 200 without one. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BEGIN_REQUEST = 1, END_REQUEST = 3, PARAMS = 4, STDOUT = 6 };

static long total, keys = 10000, flood_every, nokey_every, limit;
static struct sockaddr_in address;
static long next_request; /* shared: the next request's number */
static long counts[5];    /* 200, 401, 429, other, failed */
static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t header(unsigned char* at, int type, int length) {
  at[0] = 1;
  at[1] = (unsigned char)type;
  at[2] = 0;
  at[3] = 1; /* request id 1 */
  at[4] = (unsigned char)(length >> 8);
  at[5] = (unsigned char)length;
  at[6] = 0; /* no padding */
  at[7] = 0;
  return 8;
}

/* A name-value pair, both shorter than 128 bytes. */
static size_t pair(unsigned char* at, const char* name, const char* value) {
  size_t n = strlen(name), v = strlen(value);
  at[0] = (unsigned char)n;
  at[1] = (unsigned char)v;
  memcpy(at + 2, name, n);
  memcpy(at + 2 + n, value, v);
  return 2 + n + v;
}

static size_t build(unsigned char* out, long i) {
  unsigned char params[512];
  char query[64];
  size_t p = pair(params, "REQUEST_METHOD", "GET");
  p += pair(params + p, "SERVER_PROTOCOL", "HTTP/1.1");
  p += pair(params + p, "REMOTE_ADDR", "127.0.0.1");
  p += pair(params + p, "REQUEST_URI", "/guarded/hello.php");
  if (limit > 0) {
    snprintf(query, sizeof query, "%ld", limit);
    p += pair(params + p, "ACCESS_LIMIT", query);
  }
  if (nokey_every > 0 && i % nokey_every == nokey_every - 1) {
    /* no key: a 401 */
  } else if (flood_every > 0 && i % flood_every == flood_every - 1) {
    p += pair(params + p, "QUERY_STRING", "app_id=flood");
  } else {
    snprintf(query, sizeof query, "app_id=k%ld", i % keys);
    p += pair(params + p, "QUERY_STRING", query);
  }
  size_t o = header(out, BEGIN_REQUEST, 8);
  memset(out + o, 0, 8);
  out[o + 1] = 2; /* role: Authorizer; flags 0: the server closes */
  o += 8;
  o += header(out + o, PARAMS, (int)p);
  memcpy(out + o, params, p);
  o += p;
  o += header(out + o, PARAMS, 0);
  return o;
}

/* One request: its slot in counts (0-3), or 4 when it failed. */
static int exchange(long i) {
  unsigned char request[1024], buffer[16384], out[256];
  size_t length = build(request, i), have = 0, out_length = 0;
  int ended = 0, fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 4;
  if (connect(fd, (struct sockaddr*)&address, sizeof address) != 0 ||
      write(fd, request, length) != (ssize_t)length) {
    close(fd);
    return 4;
  }
  for (;;) {
    ssize_t got = read(fd, buffer + have, sizeof buffer - have);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break; /* the server's close, after END_REQUEST */
    have += (size_t)got;
    /* Take whole records off the front. */
    size_t at = 0;
    while (have - at >= 8) {
      size_t content = ((size_t)buffer[at + 4] << 8) | buffer[at + 5];
      size_t record = 8 + content + buffer[at + 6];
      if (have - at < record) break;
      if (buffer[at + 1] == STDOUT && out_length < sizeof out) {
        size_t take = content < sizeof out - out_length ? content : sizeof out - out_length;
        memcpy(out + out_length, buffer + at + 8, take);
        out_length += take;
      } else if (buffer[at + 1] == END_REQUEST) {
        ended = 1;
      }
      at += record;
    }
    memmove(buffer, buffer + at, have - at);
    have -= at;
    if (have == sizeof buffer) break; /* a record larger than any answer */
  }
  close(fd);
  if (!ended) return 4;
  if (out_length >= 11 && memcmp(out, "Status: ", 8) == 0) {
    if (memcmp(out + 8, "200", 3) == 0) return 0;
    if (memcmp(out + 8, "401", 3) == 0) return 1;
    if (memcmp(out + 8, "429", 3) == 0) return 2;
    return 3;
  }
  return 0;
}

static void* client(void* unused) {
  long mine[5] = {0};
  (void)unused;
  for (;;) {
    long i = __atomic_fetch_add(&next_request, 1, __ATOMIC_RELAXED);
    if (i >= total) break;
    ++mine[exchange(i)];
  }
  pthread_mutex_lock(&counts_lock);
  for (int s = 0; s < 5; ++s) counts[s] += mine[s];
  pthread_mutex_unlock(&counts_lock);
  return NULL;
}

static int usage(const char* why) {
  fprintf(stderr, "fcgi-load: %s\nusage: fcgi-load [--clients C] [--keys K] [--flood-every F] "
                  "[--nokey-every M] [--limit L] REQUESTS 127.0.0.1:PORT\n", why);
  return 2;
}

int main(int argc, char** argv) {
  long clients = 8;
  int at = 1;
  for (; at + 1 < argc && strncmp(argv[at], "--", 2) == 0; at += 2) {
    long value = strtol(argv[at + 1], NULL, 10);
    if (value < 0) return usage("options take whole numbers");
    if (strcmp(argv[at], "--clients") == 0) clients = value;
    else if (strcmp(argv[at], "--keys") == 0) keys = value;
    else if (strcmp(argv[at], "--flood-every") == 0) flood_every = value;
    else if (strcmp(argv[at], "--nokey-every") == 0) nokey_every = value;
    else if (strcmp(argv[at], "--limit") == 0) limit = value;
    else return usage("unknown option");
  }
  if (argc - at != 2) return usage("give REQUESTS and the address");
  total = strtol(argv[at], NULL, 10);
  char host[64];
  int port = 0;
  if (total < 1 || clients < 1 || clients > 1024 || keys < 1 ||
      sscanf(argv[at + 1], "%63[^:]:%d", host, &port) != 2 || port < 1 || port > 65535)
    return usage("bad REQUESTS, option value or address");
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &address.sin_addr) != 1) return usage("the host must be an IPv4 address");

  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pthread_t threads[1024];
  for (long c = 0; c < clients; ++c) pthread_create(&threads[c], NULL, client, NULL);
  for (long c = 0; c < clients; ++c) pthread_join(threads[c], NULL);
  clock_gettime(CLOCK_MONOTONIC, &end);
  double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
  printf("requests=%ld seconds=%.2f rate=%.0f s200=%ld s401=%ld s429=%ld other=%ld failed=%ld\n", total,
         seconds, (double)total / seconds, counts[0], counts[1], counts[2], counts[3], counts[4]);
  return counts[4] > 0;
}
