#include "request_deadline.h"

#include <unistd.h>

#include <thread>

namespace access_limiter {

namespace {

void watch(const std::shared_ptr<RequestDeadline::State>& state) {
  std::unique_lock<std::mutex> lock(state->mutex);
  for (;;) {
    state->changed.wait(lock, [&] { return state->armed; });
    // Re-read the deadline after each wake: a request may have been
    // disarmed and the next one armed meanwhile.
    while (state->armed && std::chrono::steady_clock::now() < state->deadline)
      state->changed.wait_until(lock, state->deadline);
    if (!state->armed) continue;
    state->fired = true;
    const std::function<void()> on_expiry = state->on_expiry;
    lock.unlock();
    on_expiry();
    _exit(0);  // on_expiry must not return; if it does, the process still ends
  }
}

}  // namespace

RequestDeadline::RequestDeadline() : state_(std::make_shared<State>()) {
  std::thread(watch, state_).detach();
}

void RequestDeadline::arm(std::chrono::milliseconds limit, std::function<void()> on_expiry) {
  {
    const std::lock_guard<std::mutex> lock(state_->mutex);
    state_->armed = true;
    state_->deadline = std::chrono::steady_clock::now() + limit;
    state_->on_expiry = std::move(on_expiry);
  }
  state_->changed.notify_one();
}

void RequestDeadline::disarm() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  if (state_->fired) {
    // The expiry answers and ends the process; this thread waits for that.
    lock.unlock();
    for (;;) pause();
  }
  state_->armed = false;
  state_->on_expiry = nullptr;
}

}  // namespace access_limiter
