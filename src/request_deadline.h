#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

namespace access_limiter {

// The store watchdog of a process that answers many requests (the
// authorizer's worker); watchdog.h is the CGI's, for one request ever.
// One thread per worker sleeps until a request is armed, then until its
// deadline or disarm(). When the deadline passes first, `on_expiry` runs on
// that thread while the request's own thread is still held (by a store call
// stuck in the kernel): it must answer the request and end the process,
// since that thread cannot be taken back. It must not return.
class RequestDeadline {
 public:
  RequestDeadline();
  RequestDeadline(const RequestDeadline&) = delete;
  RequestDeadline& operator=(const RequestDeadline&) = delete;

  void arm(std::chrono::milliseconds limit, std::function<void()> on_expiry);
  // Stops the deadline of the armed request. If it already fired, its
  // thread is answering the request and ending the process: this never
  // returns then, so the caller writes nothing more.
  void disarm();

  // What the thread and this object share. The thread, never joined (a
  // worker ends with _exit), keeps it alive: destroying a condition
  // variable a thread waits on would block.
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    bool armed = false;
    bool fired = false;
    std::chrono::steady_clock::time_point deadline;
    std::function<void()> on_expiry;
  };

 private:
  std::shared_ptr<State> state_;
};

}  // namespace access_limiter
