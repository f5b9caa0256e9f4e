#pragma once

#include <chrono>
#include <functional>

namespace access_limiter {

// Bounds how long a request waits on the store. A call to a hung network
// file system (a GlusterFS volume whose bricks stopped answering) can sit in
// the kernel until the volume's ping-timeout, and no signal but a fatal one
// ends it. So: armed before the first store call, the watchdog sleeps on a
// thread of its own; if `limit` passes before disarm(), it runs `on_timeout`
// (which answers the request), closes stdin and stdout, so that the web
// server has the whole answer at once, and ends the process with _exit(0).
// A call still pending in the kernel ends with the process only if the
// file system has not taken it yet; one the FUSE daemon already read holds
// the exiting process (which runs no more code and holds no connection)
// until the volume answers or its ping-timeout passes.
//
// One per process, ever (a CGI run answers one request): the thread runs on
// a static stack and is never joined. Disarming wakes it, and it ends while
// the request goes on: a thread still asleep at the process's exit would
// hold that exit (and so the web server's wait for the CGI) until the kernel
// had woken and ended it. A second one throws.
class Watchdog {
 public:
  Watchdog(std::chrono::milliseconds limit, std::function<void()> on_timeout);
  ~Watchdog() { disarm(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Stops the watchdog. If it already fired, the request is being answered
  // by it and the process is about to exit: this never returns then.
  void disarm();
};

}  // namespace access_limiter
