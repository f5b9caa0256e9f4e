#include "error_integration.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <string>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <typeinfo>

#include "logging.h"
#include "mail_limiter.h"
#include "signal_safe.h"

namespace access_limiter {

namespace {

// Everything the fatal paths use is prepared here beforehand, in fixed
// buffers: a signal handler may call only async-signal-safe functions, so it
// cannot allocate or format.
constexpr std::size_t kMaxPath = 1100;
constexpr std::size_t kMaxMessage = 2048;
char g_mail_address[256] = "";
char g_mail_command[kMaxPath] = "";
char g_fatal_response[1024] = "";
std::size_t g_fatal_response_size = 0;
volatile sig_atomic_t g_response_started = 0;
volatile sig_atomic_t g_in_fatal_handler = 0;
char g_alternate_stack[64 * 1024];

// Sends `message` by mail from a detached grandchild; async-signal-safe.
// The parent waits only for the short-lived child, which exits as soon as it
// has forked, so no zombie and no wait on the mail program.
void mailDetached(const char* message) {
  if (g_mail_address[0] == '\0') return;
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
  char text[kMaxMessage + 128];
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
  char dash_i[] = "-i";
  char dash_dash[] = "--";
  char* argv[] = {g_mail_command, dash_i, dash_dash, g_mail_address, nullptr};
  // Not the CGI's environment: it holds the request's headers (a client's
  // credential among them) and ACCESS_KEY_SECRET.
  char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path, nullptr};
  execve(g_mail_command, argv, envp);
  _exit(127);
}

int g_mail_interval_seconds = 0;
std::string g_mail_scope;

void writeFatalResponse() {
  if (g_response_started) return;
  g_response_started = 1;
  writeAll(STDOUT_FILENO, g_fatal_response, g_fatal_response_size);
}

const char* signalName(int signal_number) {
  switch (signal_number) {
    case SIGSEGV: return "SIGSEGV (invalid memory access)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGFPE: return "SIGFPE (arithmetic error)";
    case SIGABRT: return "SIGABRT (abort)";
    case SIGILL: return "SIGILL (illegal instruction)";
    default: return "unexpected signal";
  }
}

void onFatalSignal(int signal_number) {
  if (g_in_fatal_handler) _exit(128 + signal_number);
  g_in_fatal_handler = 1;
  writeFatalResponse();
  logLineFromSignal("fatal signal ", signalName(signal_number));
  char message[256];
  std::size_t n = copyInto(message, sizeof message, 0, "fatal signal ");
  copyInto(message, sizeof message, n, signalName(signal_number));
  mailDetached(message);
  // Exit with the signal's conventional status rather than re-raise: the
  // answer is out and logged, and a core dump per request is not wanted.
  _exit(128 + signal_number);
}

void onTerminate() {
  std::string cause = "std::terminate called";
  if (std::exception_ptr current = std::current_exception()) {
    try {
      std::rethrow_exception(current);
    } catch (const std::exception& e) {
      cause += " with an uncaught exception: ";
      cause += e.what();
    } catch (...) {
      cause += " with an uncaught exception of unknown type";
    }
  }
  g_in_fatal_handler = 1;
  writeFatalResponse();
  reportServerError(cause);
  _exit(70);  // EX_SOFTWARE
}

}  // namespace

void configureNotification(const std::string& address, const std::string& mail_command,
                           int interval_seconds, const std::string& scope) {
  copyInto(g_mail_address, sizeof g_mail_address, 0, address.c_str());
  copyInto(g_mail_command, sizeof g_mail_command, 0, mail_command.c_str());
  g_mail_interval_seconds = interval_seconds;
  g_mail_scope = scope;
}

void reportServerError(std::string_view message) {
  logLine(message);
  if (g_mail_address[0] == '\0') return;
  const SystemClock clock;
  const MailVerdict verdict =
      MailLimiter(clock, defaultMailDirectories(), g_mail_interval_seconds, g_mail_scope)
          .record(message);
  if (!verdict.problem.empty()) logLine(verdict.problem);
  if (!verdict.due) return;
  std::string text(message.substr(0, kMaxMessage));
  text += verdict.note;
  mailDetached(text.c_str());
}

void installFatalHandlers(const std::string& response) {
  g_fatal_response_size = copyInto(g_fatal_response, sizeof g_fatal_response, 0, response.c_str());
  std::set_terminate(onTerminate);
  // An alternate stack, so a stack overflow still reaches the handler.
  stack_t stack{};
  stack.ss_sp = g_alternate_stack;
  stack.ss_size = sizeof g_alternate_stack;
  sigaltstack(&stack, nullptr);
  struct sigaction action {};
  action.sa_handler = onFatalSignal;
  action.sa_flags = SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL})
    sigaction(signal_number, &action, nullptr);
}

void markResponseStarted() { g_response_started = 1; }

}  // namespace access_limiter
