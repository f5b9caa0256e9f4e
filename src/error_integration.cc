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

// The cause of a message: without digits and parenthesised parts, so that
// "open(/srv/access/k/1795-0): Transport endpoint is not connected" and the
// same failure for another key or second are one cause.
std::string causeOf(std::string_view message) {
  std::string cause;
  int depth = 0;
  for (char c : message) {
    if (c == '(') ++depth;
    if (depth == 0 && (c < '0' || c > '9')) cause += c;
    if (c == ')' && depth > 0) --depth;
  }
  return cause;
}

// FNV-1a, 64 bits, as 16 hex digits: a file name for a cause.
std::string hashName(const std::string& text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  static const char kHex[] = "0123456789abcdef";
  std::string name(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) name[i] = kHex[hash & 0xF];
  return name;
}

// True when this report is to be mailed (see configureNotification); then
// `note` says how many were held back since the last mail. Any trouble with
// the state directory means mailing: a lost mail is worse than a repeat.
// The package makes this as root, so no other user can take its name first.
const char kPackagedMailDir[] = "/var/lib/access-limiter/mail";

// True when `dir` is a directory of this user's that no one else may use.
bool isOwnPrivateDirectory(const std::string& dir) {
  struct stat st {};
  return lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
         (st.st_mode & 0077) == 0;
}

bool mailDue(std::string_view message, std::string& note) {
  if (g_mail_interval_seconds <= 0) return true;
  std::string dir = kPackagedMailDir;
  if (!isOwnPrivateDirectory(dir)) {
    const char* tmp = std::getenv("TMPDIR");
    dir = std::string(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp") + "/access-limiter-mail-" +
          std::to_string(geteuid());
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return true;
    if (!isOwnPrivateDirectory(dir)) {
      // Another user made the name first: its markers cannot be trusted, and
      // mailing every report would let a flood of failures fork a mailer
      // each. Held back; every report is in the log.
      logLine("mail held back: " + dir +
              " is not this user's own private directory (another user made it?)");
      return false;
    }
  }
  struct stat st {};
  const std::string cause = dir + "/" + hashName(causeOf(message) + "\n" + g_mail_scope);
  const long long slot = static_cast<long long>(time(nullptr)) / g_mail_interval_seconds;
  const int marker = open((cause + "-" + std::to_string(slot)).c_str(),
                          O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (marker < 0) {
    if (errno != EEXIST) return true;
    // Held back: one byte per report, appended atomically.
    const int held = open((cause + ".held").c_str(),
                          O_CREAT | O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (held >= 0) {
      writeAll(held, "x", 1);
      close(held);
    }
    return false;
  }
  close(marker);
  unlink((cause + "-" + std::to_string(slot - 1)).c_str());
  const std::string taken = cause + ".held." + std::to_string(getpid());
  if (rename((cause + ".held").c_str(), taken.c_str()) == 0) {
    if (lstat(taken.c_str(), &st) == 0 && st.st_size > 0)
      note = "\n(" + std::to_string(st.st_size) + " more reports of this cause were held back since the last mail; ACCESS_MAIL_INTERVAL=" +
             std::to_string(g_mail_interval_seconds) + ")";
    unlink(taken.c_str());
  }
  return true;
}

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
  std::string note;
  if (!mailDue(message, note)) return;
  std::string text(message.substr(0, kMaxMessage));
  text += note;
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
