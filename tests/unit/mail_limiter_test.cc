#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "fake_clock.h"
#include "mail_limiter.h"
#include "temp_dir.h"

using namespace access_limiter;
using access_limiter::testing::FakeClock;
using access_limiter::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int kIntervalSeconds = 600;
// The start of an interval: 1700000400 is a multiple of 600.
constexpr Second kIntervalStart = 1700000400;
const char kScope[] = "/srv/access";
const char kStoreDown[] =
    "503 Service Unavailable: open(/srv/access/k/1795-0): Transport endpoint is not connected";

// A limiter over a fallback directory in `dir` (no preferred one).
MailLimiter limiterIn(const TempDir& dir, const Clock& clock,
                      int interval_seconds = kIntervalSeconds, const std::string& scope = kScope) {
  return MailLimiter(clock, MailDirectories{"", dir.path() + "/mail"}, interval_seconds, scope);
}

std::string heldBackNote(int count) {
  return "\n(" + std::to_string(count) +
         " more reports of this cause were held back since the last mail; ACCESS_MAIL_INTERVAL=" +
         std::to_string(kIntervalSeconds) + ")";
}

// Makes a directory with exactly `mode`: mkdir alone leaves the umask's mark.
std::string directoryWithMode(const std::string& path, mode_t mode) {
  BOOST_REQUIRE(mkdir(path.c_str(), mode) == 0);
  BOOST_REQUIRE(chmod(path.c_str(), mode) == 0);
  return path;
}

// A limiter whose preferred directory, dir/packaged, is made with `mode`;
// its fallback is dir/fallback.
MailLimiter limiterPreferring(const TempDir& dir, const Clock& clock, mode_t mode) {
  return MailLimiter(
      clock,
      MailDirectories{directoryWithMode(dir.path() + "/packaged", mode), dir.path() + "/fallback"},
      kIntervalSeconds, kScope);
}

int filesIn(const std::string& dir) {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++count;
  return count;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mail_limiter)

BOOST_AUTO_TEST_CASE(the_first_report_of_a_cause_in_an_interval_is_due_with_no_note) {
  TempDir dir;
  FakeClock clock(kIntervalStart + 17);
  const MailVerdict verdict = limiterIn(dir, clock).record(kStoreDown);
  BOOST_TEST(verdict.due);
  BOOST_TEST(verdict.note == "");
  BOOST_TEST(verdict.problem == "");
}

BOOST_AUTO_TEST_CASE(later_reports_in_the_interval_are_held_back_and_the_next_mail_counts_them) {
  TempDir dir;
  FakeClock clock(kIntervalStart);
  const MailLimiter limiter = limiterIn(dir, clock);
  BOOST_TEST(limiter.record(kStoreDown).due);
  for (int i = 0; i < 3; ++i) {
    clock.set(kIntervalStart + 100 * i + 1);
    const MailVerdict held = limiter.record(kStoreDown);
    BOOST_TEST(!held.due);
    BOOST_TEST(held.problem == "", "held back by the interval, not by a problem");
  }
  clock.set(kIntervalStart + kIntervalSeconds - 1);
  BOOST_TEST(!limiter.record(kStoreDown).due, "the interval's last second is still in it");

  clock.set(kIntervalStart + kIntervalSeconds);
  const MailVerdict next = limiter.record(kStoreDown);
  BOOST_TEST(next.due, "the next interval mails again");
  BOOST_TEST(next.note == heldBackNote(4));

  clock.set(kIntervalStart + 2 * kIntervalSeconds);
  const MailVerdict after = limiter.record(kStoreDown);
  BOOST_TEST(after.due);
  BOOST_TEST(after.note == "", "the count was taken by the mail that stated it");
}

BOOST_AUTO_TEST_CASE(intervals_are_counted_from_the_epoch_not_from_the_first_report) {
  TempDir dir;
  FakeClock clock(kIntervalStart + kIntervalSeconds - 1);
  const MailLimiter limiter = limiterIn(dir, clock);
  BOOST_TEST(limiter.record(kStoreDown).due);
  clock.set(kIntervalStart + kIntervalSeconds);
  BOOST_TEST(limiter.record(kStoreDown).due, "a second later, a new interval");
}

BOOST_AUTO_TEST_CASE(interval_zero_mails_every_report_and_touches_no_file) {
  TempDir dir;
  FakeClock clock(kIntervalStart);
  const MailLimiter limiter = limiterIn(dir, clock, 0);
  for (int i = 0; i < 3; ++i) {
    const MailVerdict verdict = limiter.record(kStoreDown);
    BOOST_TEST(verdict.due);
    BOOST_TEST(verdict.note == "");
  }
  BOOST_TEST(!fs::exists(dir.path() + "/mail"));
}

BOOST_AUTO_TEST_CASE(different_causes_are_independent) {
  TempDir dir;
  FakeClock clock(kIntervalStart);
  const MailLimiter limiter = limiterIn(dir, clock);
  BOOST_TEST(limiter.record(kStoreDown).due);
  BOOST_TEST(limiter.record("500 Internal Server Error: unexpected exception: out of memory").due);
  BOOST_TEST(!limiter.record(kStoreDown).due);
  BOOST_TEST(!limiter.record("500 Internal Server Error: unexpected exception: out of memory").due);

  clock.set(kIntervalStart + kIntervalSeconds);
  BOOST_TEST(limiter.record(kStoreDown).note == heldBackNote(1), "each cause counts its own");
}

BOOST_AUTO_TEST_CASE(digits_and_parenthesised_parts_are_not_part_of_the_cause) {
  TempDir dir;
  FakeClock clock(kIntervalStart);
  const MailLimiter limiter = limiterIn(dir, clock);
  const char other_key_and_window[] =
      "503 Service Unavailable: open(/srv/access/other/1700000400-3): "
      "Transport endpoint is not connected";
  const char other_status_nested_parentheses[] =
      "504 Service Unavailable: open(/x (nested) y): Transport endpoint is not connected";
  const char other_reason[] =
      "503 Service Unavailable: open(/srv/access/k/1795-0): Permission denied";
  BOOST_TEST(limiter.record(kStoreDown).due);
  BOOST_TEST(!limiter.record(other_key_and_window).due);
  BOOST_TEST(!limiter.record(other_status_nested_parentheses).due);
  BOOST_TEST(limiter.record(other_reason).due, "a reason outside the parentheses is the cause");
}

BOOST_AUTO_TEST_CASE(the_same_message_about_another_scope_is_another_cause) {
  TempDir dir;
  FakeClock clock(kIntervalStart);
  BOOST_TEST(limiterIn(dir, clock, kIntervalSeconds, kScope).record(kStoreDown).due);
  BOOST_TEST(limiterIn(dir, clock, kIntervalSeconds, "/srv/other").record(kStoreDown).due);
  BOOST_TEST(!limiterIn(dir, clock, kIntervalSeconds, kScope).record(kStoreDown).due);
}

BOOST_AUTO_TEST_CASE(limiters_sharing_a_directory_share_its_markers) {
  // As the CGI processes of one node do: each builds its own limiter.
  TempDir dir;
  FakeClock clock(kIntervalStart);
  BOOST_TEST(limiterIn(dir, clock).record(kStoreDown).due);
  BOOST_TEST(!limiterIn(dir, clock).record(kStoreDown).due);
  BOOST_TEST(!limiterIn(dir, clock).record(kStoreDown).due);
  clock.set(kIntervalStart + kIntervalSeconds);
  BOOST_TEST(limiterIn(dir, clock).record(kStoreDown).note == heldBackNote(2));
}

BOOST_AUTO_TEST_CASE(the_fallback_directory_is_made_private_on_first_use) {
  TempDir dir;
  FakeClock clock(kIntervalStart);
  BOOST_TEST(limiterIn(dir, clock).record(kStoreDown).due);
  struct stat st {};
  BOOST_REQUIRE(lstat((dir.path() + "/mail").c_str(), &st) == 0);
  BOOST_TEST(S_ISDIR(st.st_mode));
  BOOST_TEST((st.st_mode & 0777) == 0700u);
  BOOST_TEST(st.st_uid == geteuid());
}

BOOST_AUTO_TEST_CASE(a_private_preferred_directory_is_used_and_the_fallback_never_made) {
  TempDir dir;
  FakeClock clock(kIntervalStart);
  const MailLimiter limiter = limiterPreferring(dir, clock, 0700);
  BOOST_TEST(limiter.record(kStoreDown).due);
  BOOST_TEST(!limiter.record(kStoreDown).due);
  BOOST_TEST(filesIn(dir.path() + "/packaged") == 2,
             "the interval's marker and the held-back count");
  BOOST_TEST(!fs::exists(dir.path() + "/fallback"));
}

BOOST_AUTO_TEST_CASE(a_preferred_directory_open_to_others_is_passed_over_for_the_fallback) {
  TempDir dir;
  FakeClock clock(kIntervalStart);
  BOOST_TEST(limiterPreferring(dir, clock, 0755).record(kStoreDown).due);
  BOOST_TEST(filesIn(dir.path() + "/packaged") == 0);
  BOOST_TEST(filesIn(dir.path() + "/fallback") == 1);
}

BOOST_AUTO_TEST_CASE(a_fallback_directory_open_to_others_holds_mail_back_and_says_why) {
  TempDir dir;
  const std::string fallback = directoryWithMode(dir.path() + "/mail", 0777);
  FakeClock clock(kIntervalStart);
  const MailLimiter limiter = limiterIn(dir, clock);
  for (int i = 0; i < 3; ++i) {
    const MailVerdict verdict = limiter.record(kStoreDown);
    BOOST_TEST(!verdict.due);
    BOOST_TEST(verdict.problem ==
               "mail held back: " + fallback +
                   " is not this user's own private directory (another user made it?)");
  }
  BOOST_TEST(filesIn(fallback) == 0, "nothing was written into it");
}

BOOST_AUTO_TEST_CASE(a_link_in_place_of_the_fallback_directory_holds_mail_back) {
  TempDir dir;
  const std::string elsewhere = directoryWithMode(dir.path() + "/elsewhere", 0700);
  fs::create_directory_symlink(elsewhere, dir.path() + "/mail");
  FakeClock clock(kIntervalStart);
  const MailVerdict verdict = limiterIn(dir, clock).record(kStoreDown);
  BOOST_TEST(!verdict.due);
  BOOST_TEST(verdict.problem != "");
  BOOST_TEST(filesIn(elsewhere) == 0);
}

BOOST_AUTO_TEST_CASE(a_fallback_directory_of_another_users_holds_mail_back) {
  if (geteuid() != 0) {
    BOOST_TEST_MESSAGE("not root: a directory of another user's was NOT tested");
    return;
  }
  TempDir dir;
  const std::string fallback = directoryWithMode(dir.path() + "/mail", 0700);
  BOOST_REQUIRE(chown(fallback.c_str(), 65534, 65534) == 0);
  FakeClock clock(kIntervalStart);
  const MailVerdict verdict = limiterIn(dir, clock).record(kStoreDown);
  BOOST_TEST(!verdict.due);
  BOOST_TEST(verdict.problem.find("is not this user's own private directory") != std::string::npos);
  BOOST_TEST(filesIn(fallback) == 0);
}

BOOST_AUTO_TEST_CASE(a_directory_that_cannot_be_made_means_mailing) {
  // A lost mail is worse than a repeat.
  TempDir dir;
  FakeClock clock(kIntervalStart);
  const MailLimiter limiter(clock, MailDirectories{"", dir.path() + "/missing/mail"},
                            kIntervalSeconds, kScope);
  BOOST_TEST(limiter.record(kStoreDown).due);
  BOOST_TEST(limiter.record(kStoreDown).due);
}

BOOST_AUTO_TEST_CASE(the_default_directories_are_the_packaged_one_then_one_per_user_in_tmpdir) {
  const char* saved = std::getenv("TMPDIR");
  const std::string saved_value = saved != nullptr ? saved : "";
  const std::string per_user = "/access-limiter-mail-" + std::to_string(geteuid());
  setenv("TMPDIR", "/var/tmp", 1);
  BOOST_TEST(defaultMailDirectories().preferred == "/var/lib/access-limiter/mail");
  BOOST_TEST(defaultMailDirectories().fallback == "/var/tmp" + per_user);
  setenv("TMPDIR", "relative", 1);
  BOOST_TEST(defaultMailDirectories().fallback == "/tmp" + per_user);
  unsetenv("TMPDIR");
  BOOST_TEST(defaultMailDirectories().fallback == "/tmp" + per_user);
  if (saved != nullptr) setenv("TMPDIR", saved_value.c_str(), 1);
}

BOOST_AUTO_TEST_SUITE_END()
