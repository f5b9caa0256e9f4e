#include "request_deadline.h"

#include <unistd.h>

namespace access_limiter {

RequestDeadline::RequestDeadline() { std::thread([this] { watch(); }).detach(); }

void RequestDeadline::arm(std::chrono::milliseconds limit, std::function<void()> on_expiry) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    armed_ = true;
    deadline_ = std::chrono::steady_clock::now() + limit;
    on_expiry_ = std::move(on_expiry);
  }
  changed_.notify_one();
}

void RequestDeadline::disarm() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (fired_) {
    // The expiry answers and ends the process; this thread waits for that.
    lock.unlock();
    for (;;) pause();
  }
  armed_ = false;
  on_expiry_ = nullptr;
}

void RequestDeadline::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return armed_; });
    // Re-read the deadline after each wake: a request may have been
    // disarmed and the next one armed meanwhile.
    while (armed_ && std::chrono::steady_clock::now() < deadline_)
      changed_.wait_until(lock, deadline_);
    if (!armed_) continue;
    fired_ = true;
    const std::function<void()> on_expiry = on_expiry_;
    lock.unlock();
    on_expiry();
    _exit(0);  // on_expiry must not return; if it does, the process still ends
  }
}

}  // namespace access_limiter
