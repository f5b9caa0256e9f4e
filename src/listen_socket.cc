#include "listen_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace access_limiter {

namespace {

// Connections waiting for a worker. Apache opens one per request, so a
// burst can queue many; the kernel caps it at net.core.somaxconn.
constexpr int kBacklog = 1024;

[[noreturn]] void fail(const std::string& address, const std::string& what) {
  throw ListenError("cannot listen on " + address + ": " + what);
}

std::string systemError(const char* call) { return std::string(call) + ": " + std::strerror(errno); }

// Binds and listens `fd`, closing it on failure.
int bindAndListen(int fd, const sockaddr* socket_address, socklen_t length,
                  const std::string& address) {
  if (bind(fd, socket_address, length) != 0 || listen(fd, kBacklog) != 0) {
    const std::string cause = systemError("bind/listen");
    close(fd);
    fail(address, cause);
  }
  return fd;
}

int openUnixSocket(const std::string& path) {
  sockaddr_un socket_address{};
  socket_address.sun_family = AF_UNIX;
  if (path.size() >= sizeof socket_address.sun_path)
    fail(path, "a unix socket's path may be at most " +
                   std::to_string(sizeof socket_address.sun_path - 1) + " bytes");
  std::memcpy(socket_address.sun_path, path.c_str(), path.size() + 1);
  struct stat existing {};
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(path, systemError("socket"));
  if (lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      close(fd);
      fail(path, "it exists and is not a socket");
    }
    // A socket someone still listens on (php-fpm's, another authorizer's)
    // is theirs: only a stale one, left by a process that ended, is
    // replaced.
    const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool listened = probe >= 0 && connect(probe, reinterpret_cast<const sockaddr*>(&socket_address),
                                                sizeof socket_address) == 0;
    if (probe >= 0) close(probe);
    if (listened) {
      close(fd);
      fail(path, "a program is listening on it; stop it, or give another path");
    }
    if (unlink(path.c_str()) != 0) {
      const std::string cause = systemError("unlink of the old socket");
      close(fd);
      fail(path, cause);
    }
  }
  // 0660 from the start: no moment in which others could connect.
  const mode_t old_mask = umask(0117);
  try {
    bindAndListen(fd, reinterpret_cast<const sockaddr*>(&socket_address), sizeof socket_address,
                  path);
  } catch (...) {
    umask(old_mask);
    throw;
  }
  umask(old_mask);
  return fd;
}

// "HOST:PORT" with HOST a loopback address: 127.x.y.z, or [::1].
int openLoopbackSocket(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    fail(address, "give 127.0.0.1:PORT, [::1]:PORT or a unix socket's absolute path");
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 1 || port > 65535 || port_text[0] == '0')
    fail(address, "the port must be a number from 1 to 65535");
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = 0;
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
      !bracketed && inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127)
      fail(address, "only a loopback address (127.0.0.1) is allowed: a request may set "
                    "per-location settings, so no other host may reach the authorizer");
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v4;
    family = AF_INET;
  } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
             bracketed && inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr))
      fail(address, "only a loopback address ([::1]) is allowed: a request may set "
                    "per-location settings, so no other host may reach the authorizer");
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v6;
    family = AF_INET6;
  } else {
    fail(address, "the host must be a loopback address written as numbers (127.0.0.1 or [::1])");
  }
  const int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(address, systemError("socket"));
  const int on = 1;
  // A restarted authorizer binds again at once, despite the last one's
  // connections in TIME_WAIT.
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  return bindAndListen(fd, reinterpret_cast<const sockaddr*>(&storage), length, address);
}

}  // namespace

bool isListeningSocket(int fd) {
  int listening = 0;
  socklen_t length = sizeof listening;
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 && listening != 0;
}

int openListenSocket(const std::string& address) {
  if (address.empty()) fail("\"\"", "no address given");
  if (address.front() == '/') return openUnixSocket(address);
  return openLoopbackSocket(address);
}

int inheritedListenSocket() {
  // sd_listen_fds(3)'s protocol, without libsystemd.
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (pid != nullptr && fds != nullptr && std::strtol(pid, nullptr, 10) == getpid()) {
    const long count = std::strtol(fds, nullptr, 10);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (count > 1)
      throw ListenError("systemd handed over " + std::to_string(count) +
                        " sockets; the authorizer serves one (one ListenStream= in the socket unit)");
    if (count == 1 && isListeningSocket(3)) {
      fcntl(3, F_SETFD, FD_CLOEXEC);
      return 3;
    }
  }
  if (isListeningSocket(0)) return 0;
  return -1;
}

}  // namespace access_limiter
