#include "watchdog.h"

#include <pthread.h>
#include <semaphore.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>

namespace access_limiter {

namespace {

enum State { kIdle, kArmed, kDisarmed, kFired };

// Process-wide, and never destroyed before exit: the sleeping thread may
// outlive the Watchdog object that started it.
std::atomic<int> g_state{kIdle};
std::function<void()>* g_on_timeout = nullptr;
timespec g_deadline{};
// Posted by disarm(): it wakes the thread, which then ends.
sem_t g_disarmed;

// The thread's own stack (pthread would map and unmap one per request).
constexpr std::size_t kStackBytes = 256 * 1024;
alignas(64) char g_stack[kStackBytes];

void* watch(void*) {
  // Retrying signals only: anything else is the deadline (or a deadline the
  // call refuses, which fires at once as the deadline would).
  for (;;) {
    if (sem_clockwait(&g_disarmed, CLOCK_MONOTONIC, &g_deadline) == 0) return nullptr;
    if (errno != EINTR) break;
  }
  int armed = kArmed;
  if (!g_state.compare_exchange_strong(armed, kFired)) return nullptr;
  (*g_on_timeout)();
  // A call the volume's client daemon has already read cannot be cut short,
  // not even by a fatal signal: the kernel holds the stuck thread, and with
  // it the process, until the volume answers. Closing our end of the
  // request's stdin and stdout first ends the answer for the web server now.
  close(STDOUT_FILENO);
  close(STDIN_FILENO);
  _exit(0);
}

}  // namespace

Watchdog::Watchdog(std::chrono::milliseconds limit, std::function<void()> on_timeout) {
  int idle = kIdle;
  if (!g_state.compare_exchange_strong(idle, kArmed))
    throw std::logic_error("a store watchdog is already running in this process");
  g_on_timeout = new std::function<void()>(std::move(on_timeout));
  sem_init(&g_disarmed, 0, 0);
  clock_gettime(CLOCK_MONOTONIC, &g_deadline);
  const long long nanos = g_deadline.tv_nsec + static_cast<long long>(limit.count()) * 1000000;
  g_deadline.tv_sec += static_cast<time_t>(nanos / 1000000000);
  g_deadline.tv_nsec = static_cast<long>(nanos % 1000000000);

  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstack(&attributes, g_stack, sizeof g_stack);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  const int error = pthread_create(&thread, &attributes, watch, nullptr);
  pthread_attr_destroy(&attributes);
  if (error != 0) {
    g_state = kIdle;
    throw std::runtime_error("could not start the store watchdog");
  }
}

void Watchdog::disarm() {
  int armed = kArmed;
  if (g_state.compare_exchange_strong(armed, kDisarmed)) {
    sem_post(&g_disarmed);
    return;
  }
  // The watchdog answers and exits the process; wait for that.
  if (armed == kFired)
    for (;;) pause();
}

}  // namespace access_limiter
