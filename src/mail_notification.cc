#include "mail_notification.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "logging.h"
#include "signal_safe.h"

namespace access_limiter {

namespace {

// Longest message a mail carries, in bytes; the rest is in the log.
constexpr std::size_t kMaxMailMessageBytes = 2048;

// Copies of the process's address and command in fixed buffers, for
// mailFromSignalHandler: a signal handler cannot read a std::string that
// might be being assigned. Sized for ACCESS_ERROR_MAIL (at most 254 bytes)
// and ACCESS_MAIL_COMMAND (a path of at most 1024).
char g_signal_mail_address[256] = "";
char g_signal_mail_command[1100] = "";

const SystemClock g_wall_clock;
std::optional<ErrorNotifier> g_process_notifier;

// Sends `message` by mail from a detached grandchild; async-signal-safe, so
// it also serves a child forked from a process with threads. The parent
// waits only for the short-lived child, which exits as soon as it has
// forked, so no zombie and no wait on the mail program.
void mailDetached(const char* mail_command, const char* address, const char* message) {
  if (address[0] == '\0') return;
  pid_t child = fork();
  if (child < 0) return;
  if (child > 0) {
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return;
  }
  setsid();
  if (fork() != 0) _exit(0);
  // The grandchild: the message goes into a pipe (it fits the pipe buffer),
  // which becomes the mail program's stdin. Our stdout and stderr are
  // replaced, because the web server waits until every holder closes them.
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) _exit(1);
  char text[kMaxMailMessageBytes + 128];
  std::size_t n = copyInto(text, sizeof text, 0, "Subject: ");
  n = copyInto(text, sizeof text, n, programName());
  n = copyInto(text, sizeof text, n, " server error\n\n");
  n = copyInto(text, sizeof text, n, message);
  n = copyInto(text, sizeof text, n, "\n");
  writeAll(pipe_fds[1], text, n);
  close(pipe_fds[1]);
  dup2(pipe_fds[0], STDIN_FILENO);
  close(pipe_fds[0]);
  int null_fd = open("/dev/null", O_WRONLY);
  if (null_fd >= 0) {
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    if (null_fd > STDERR_FILENO) close(null_fd);
  }
  // execve takes char* for historical reasons; it changes none of them.
  char dash_i[] = "-i";
  char dash_dash[] = "--";
  char* argv[] = {const_cast<char*>(mail_command), dash_i, dash_dash, const_cast<char*>(address),
                  nullptr};
  // Not the CGI's environment: it holds the request's headers (a client's
  // credential among them) and ACCESS_KEY_SECRET.
  char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path, nullptr};
  execve(mail_command, argv, envp);
  _exit(127);
}

}  // namespace

ErrorNotifier::ErrorNotifier(const NotificationSettings& settings, const Clock& clock,
                             MailDirectories directories, Metrics* metrics)
    : address_(settings.address),
      mail_command_(settings.mail_command),
      limiter_(clock, std::move(directories), settings.interval_seconds, settings.scope),
      metrics_(metrics) {}

void ErrorNotifier::report(std::string_view message) const {
  logLine(message);
  if (address_.empty()) return;
  const MailVerdict verdict = limiter_.record(message);
  if (!verdict.problem.empty()) logLine(verdict.problem);
  if (!verdict.due) {
    if (metrics_ != nullptr) metrics_->count(Event::kMailHeldBack);
    return;
  }
  std::string text(message.substr(0, kMaxMailMessageBytes));
  text += verdict.note;
  mailDetached(mail_command_.c_str(), address_.c_str(), text.c_str());
  if (metrics_ != nullptr) metrics_->count(Event::kMailSent);
}

void configureNotification(const std::string& address, const std::string& mail_command,
                           int interval_seconds, const std::string& scope, Metrics* metrics) {
  copyInto(g_signal_mail_address, sizeof g_signal_mail_address, 0, address.c_str());
  copyInto(g_signal_mail_command, sizeof g_signal_mail_command, 0, mail_command.c_str());
  g_process_notifier.emplace(NotificationSettings{address, mail_command, interval_seconds, scope},
                             g_wall_clock, defaultMailDirectories(), metrics);
}

void reportServerError(std::string_view message) {
  if (g_process_notifier)
    g_process_notifier->report(message);
  else
    logLine(message);
}

void mailFromSignalHandler(const char* message) {
  mailDetached(g_signal_mail_command, g_signal_mail_address, message);
}

}  // namespace access_limiter
