#include "worker_pool.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace access_limiter {

namespace {

std::int64_t monotonicMs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

// The worker's own lease, for its SIGTERM handler (one per process).
WorkerLease* worker_lease = nullptr;

extern "C" void onWorkerStop(int) {
  if (worker_lease != nullptr) worker_lease->stop_requested.store(1);
}

// Where a worker starts: the supervisor's signal mask undone, SIGTERM asks
// it to stop (without SA_RESTART, so that a blocked accept returns), and it
// dies with its supervisor.
void enterWorker(WorkerLease& lease) {
  worker_lease = &lease;
  struct sigaction action {};
  action.sa_handler = onWorkerStop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGINT, SIG_IGN);  // a terminal's ^C reaches the supervisor, which stops us
  signal(SIGHUP, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

std::string describeEnd(pid_t pid, int status, bool busy) {
  std::string text = "authorizer worker " + std::to_string(pid);
  if (WIFSIGNALED(status)) {
    const int signal_number = WTERMSIG(status);
    text += " was killed by signal " + std::to_string(signal_number) + " (" +
            strsignal(signal_number) + ")";
  } else {
    text += " exited with status " + std::to_string(WEXITSTATUS(status));
  }
  return text + (busy ? " while answering a request" : "") + "; a new worker replaces it";
}

struct Slot {
  pid_t pid = 0;                 // 0: no worker
  std::int64_t started_ms = 0;   // when it was forked
  std::int64_t restart_at_ms = 0;  // a worker that ended young starts again no sooner
};

}  // namespace

void WorkerLease::beginRequest() { busy_since_ms.store(monotonicMs()); }
void WorkerLease::endRequest() { busy_since_ms.store(0); }
void WorkerLease::abandon() { abandoned.store(1); }
bool WorkerLease::stopRequested() const { return stop_requested.load() != 0; }

int runWorkerPool(const WorkerPoolSettings& settings,
                  const std::function<void(WorkerLease& lease)>& serve,
                  const std::function<void(std::string_view message)>& report) {
  const int count = settings.workers;
  // Leases live in memory shared with the workers; placement-new'd atomics
  // (lock-free for these sizes) work across processes.
  void* shared = mmap(nullptr, sizeof(WorkerLease) * count, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) {
    report(std::string("cannot start the authorizer: mmap: ") + std::strerror(errno));
    return 1;
  }
  auto* leases = static_cast<WorkerLease*>(shared);
  for (int i = 0; i < count; ++i) new (&leases[i]) WorkerLease();

  // Signals reach the supervisor only through sigtimedwait.
  sigset_t watched;
  sigemptyset(&watched);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&watched, s);
  sigset_t previous;
  sigprocmask(SIG_BLOCK, &watched, &previous);

  std::vector<Slot> slots(count);
  std::vector<pid_t> abandoned;  // replaced, not yet reaped
  bool stopping = false;
  std::int64_t stop_deadline_ms = 0;
  int failed_forks = 0;

  auto start = [&](int index) {
    WorkerLease& lease = leases[index];
    lease.busy_since_ms.store(0);
    lease.abandoned.store(0);
    lease.stop_requested.store(0);
    const pid_t pid = fork();
    if (pid == 0) {
      enterWorker(lease);
      serve(lease);
      _exit(0);
    }
    if (pid < 0) {
      if (++failed_forks == 1)
        report(std::string("cannot start an authorizer worker: fork: ") + std::strerror(errno));
      slots[index].restart_at_ms = monotonicMs() + 1000;
      return;
    }
    failed_forks = 0;
    slots[index] = Slot{pid, monotonicMs(), 0};
  };
  // The slot's worker is gone or given up: start another, at once unless it
  // ended young.
  auto replace = [&](int index) {
    const std::int64_t now = monotonicMs();
    const bool young = now - slots[index].started_ms < 1000;
    slots[index].pid = 0;
    slots[index].restart_at_ms = young ? now + 1000 : now;
  };

  for (int i = 0; i < count; ++i) start(i);

  for (;;) {
    const std::int64_t now = monotonicMs();
    // Reap every child that ended.
    for (;;) {
      int status = 0;
      const pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      bool found = false;
      for (int i = 0; i < count; ++i) {
        if (slots[i].pid != pid) continue;
        found = true;
        const bool busy = leases[i].busy_since_ms.load() != 0;
        const bool gave_up = leases[i].abandoned.load() != 0;
        const bool expected =
            (stopping || gave_up) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!expected) report(describeEnd(pid, status, busy));
        replace(i);
        // One that gave up a request ended as designed, however young.
        if (gave_up) slots[i].restart_at_ms = now;
      }
      if (!found)
        for (auto it = abandoned.begin(); it != abandoned.end(); ++it)
          if (*it == pid) {
            abandoned.erase(it);
            break;
          }
    }
    if (stopping) {
      bool any = false;
      for (const Slot& slot : slots) any = any || slot.pid != 0;
      if (!any || now >= stop_deadline_ms) break;
    } else {
      for (int i = 0; i < count; ++i) {
        WorkerLease& lease = leases[i];
        if (slots[i].pid != 0 && lease.abandoned.load()) {
          // It answered what it could and is ending, perhaps held by a
          // call in the kernel: replaced now, reaped whenever it ends.
          abandoned.push_back(slots[i].pid);
          slots[i].pid = 0;
          slots[i].restart_at_ms = now;
        }
        const std::int64_t busy_since = lease.busy_since_ms.load();
        if (slots[i].pid != 0 && busy_since != 0 &&
            now - busy_since > settings.request_ceiling.count()) {
          report("authorizer worker " + std::to_string(slots[i].pid) + " was stuck on one request for " +
                 std::to_string((now - busy_since) / 1000) + " s; killed, and a new worker replaces it");
          kill(slots[i].pid, SIGKILL);
          abandoned.push_back(slots[i].pid);
          slots[i].pid = 0;
          slots[i].restart_at_ms = now;
        }
        if (slots[i].pid == 0 && now >= slots[i].restart_at_ms) start(i);
      }
    }
    // Wait for a child's end, a stop, or the next check (stuck workers,
    // delayed restarts).
    const timespec tick{0, 100 * 1000 * 1000};
    const int signal_number = sigtimedwait(&watched, nullptr, &tick);
    if ((signal_number == SIGTERM || signal_number == SIGINT) && !stopping) {
      stopping = true;
      stop_deadline_ms = monotonicMs() + settings.stop_grace.count();
      for (const Slot& slot : slots)
        if (slot.pid != 0) kill(slot.pid, SIGTERM);
    }
  }
  for (const Slot& slot : slots)
    if (slot.pid != 0) kill(slot.pid, SIGKILL);
  for (pid_t pid : abandoned) kill(pid, SIGKILL);
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  return 0;
}

}  // namespace access_limiter
