#include "mail_limiter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "signal_safe.h"

namespace access_limiter {

namespace {

// The package makes this as root, so no other user can take its name first.
const char kPackagedMailDir[] = "/var/lib/access-limiter/mail";

// Without digits and parenthesised parts: see MailLimiter.
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

// True when `dir` is a directory of this user's that no one else may use.
bool isOwnPrivateDirectory(const std::string& dir) {
  struct stat st {};
  return lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
         (st.st_mode & 0077) == 0;
}

MailVerdict mailNow(std::string note = {}) {
  MailVerdict verdict;
  verdict.due = true;
  verdict.note = std::move(note);
  return verdict;
}

}  // namespace

MailDirectories defaultMailDirectories() {
  const char* tmp = std::getenv("TMPDIR");
  return MailDirectories{kPackagedMailDir,
                         std::string(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp") +
                             "/access-limiter-mail-" + std::to_string(geteuid())};
}

MailLimiter::MailLimiter(const Clock& clock, MailDirectories directories, int interval_seconds,
                         std::string scope)
    : clock_(clock),
      directories_(std::move(directories)),
      interval_seconds_(interval_seconds),
      scope_(std::move(scope)) {}

MailVerdict MailLimiter::record(std::string_view message) const {
  if (interval_seconds_ <= 0) return mailNow();
  std::string dir = directories_.preferred;
  if (!isOwnPrivateDirectory(dir)) {
    dir = directories_.fallback;
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return mailNow();
    if (!isOwnPrivateDirectory(dir)) {
      MailVerdict held;
      held.problem = "mail held back: " + dir +
                     " is not this user's own private directory (another user made it?)";
      return held;
    }
  }
  const std::string cause = dir + "/" + hashName(causeOf(message) + "\n" + scope_);
  const std::int64_t interval_number = clock_.now() / interval_seconds_;
  const int marker = open((cause + "-" + std::to_string(interval_number)).c_str(),
                          O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (marker < 0) {
    if (errno != EEXIST) return mailNow();
    // Held back: one byte per report, appended atomically.
    const int held = open((cause + ".held").c_str(),
                          O_CREAT | O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (held >= 0) {
      writeAll(held, "x", 1);
      close(held);
    }
    return MailVerdict{};
  }
  close(marker);
  // Past intervals' markers are done with. Only the last one is removed: one
  // from before a quiet interval stays.
  unlink((cause + "-" + std::to_string(interval_number - 1)).c_str());
  // Taken under a name of this process's, so that reports held back from
  // now on count towards the next mail, not this one.
  const std::string taken = cause + ".held." + std::to_string(getpid());
  std::string note;
  if (rename((cause + ".held").c_str(), taken.c_str()) == 0) {
    struct stat st {};
    if (lstat(taken.c_str(), &st) == 0 && st.st_size > 0)
      note = "\n(" + std::to_string(st.st_size) +
             " more reports of this cause were held back since the last mail; "
             "ACCESS_MAIL_INTERVAL=" +
             std::to_string(interval_seconds_) + ")";
    unlink(taken.c_str());
  }
  return mailNow(std::move(note));
}

}  // namespace access_limiter
