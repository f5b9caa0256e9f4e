#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace access_limiter {

// A supervisor and N forked workers that serve one listening socket, after
// php-fpm's static pool and nginx's master: the supervisor holds no request
// and only watches. It knows nothing of FastCGI.
//
// - A worker that exits or dies is replaced; a death by a signal, or an
//   unexpected exit, is reported (logged and mailed by the caller's report).
// - A worker that gives up on a request it cannot finish (its store hung
//   in the kernel) says so (WorkerLease::abandon) and is replaced at once,
//   without waiting for it to end.
// - A worker busy on one request for longer than `request_ceiling` is
//   killed (SIGKILL) and replaced, again without waiting for it.
// - SIGTERM or SIGINT: each worker finishes the request it holds and ends;
//   after `stop_grace` the rest are killed. The socket is not closed before
//   the supervisor exits, so a socket held by systemd loses no connection.
// - A worker that ends within a second of its start is restarted after a
//   second, so a worker that cannot start does not spin.

// What a worker tells its supervisor, through memory they share. Written by
// the worker (and by a signal handler or a watchdog thread: lock-free).
class WorkerLease {
 public:
  // Call when a request has been accepted, and when it is answered.
  void beginRequest();
  void endRequest();
  // This worker will answer no more requests and is about to _exit; the
  // supervisor replaces it at once. Async-signal-safe.
  void abandon();
  // True once the supervisor asked this worker to stop (SIGTERM): finish
  // the current request, then return from the serve function.
  bool stopRequested() const;

  // The supervisor's side; not for workers.
  std::atomic<std::int64_t> busy_since_ms{0};  // CLOCK_MONOTONIC; 0 when idle
  std::atomic<int> abandoned{0};
  std::atomic<int> stop_requested{0};
};

struct WorkerPoolSettings {
  int workers = 1;
  // A request that runs longer than this has a stuck worker.
  std::chrono::milliseconds request_ceiling{10000};
  // How long a stop waits for the workers' current requests.
  std::chrono::milliseconds stop_grace{10000};
};

// Serves until SIGTERM or SIGINT, then returns 0. `serve` runs in each
// worker (a forked child) with its lease, and returns when the worker is to
// end. `report` runs in the supervisor. Returns 1 (after reporting why)
// when no worker can be started.
int runWorkerPool(const WorkerPoolSettings& settings,
                  const std::function<void(WorkerLease& lease)>& serve,
                  const std::function<void(std::string_view message)>& report);

}  // namespace access_limiter
