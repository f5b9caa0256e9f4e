#pragma once

#include <stdexcept>
#include <string>

namespace access_limiter {

// The listening socket a persistent front door serves. No FastCGI here:
// only where the socket comes from, and who may reach it.

// A socket that cannot be had: the message names the address and the cause.
class ListenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Opens a listening socket on `address`:
//   127.0.0.1:PORT (any 127.x.y.z) or [::1]:PORT   loopback TCP only: a
//       request may set per-location settings, so the authorizer must not
//       be reachable from other hosts;
//   /PATH                                          a unix socket, made
//       with mode 0660 (its owner and group may connect); a stale socket
//       file is replaced, any other file is refused.
// Returns the descriptor (close-on-exec). Throws ListenError.
int openListenSocket(const std::string& address);

// A listening socket this process was started with, or -1:
//   descriptor 0, when it is one (spawn-fcgi, mod_fcgid);
//   descriptor 3, handed over by systemd (LISTEN_FDS=1, LISTEN_PID this
//       process); LISTEN_* are then removed from the environment, so no
//       child takes them for its own.
// Throws ListenError when systemd handed over more than one socket.
int inheritedListenSocket();

// True when `fd` is a socket in the listening state.
bool isListeningSocket(int fd);

}  // namespace access_limiter
