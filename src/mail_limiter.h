#pragma once

#include <string>
#include <string_view>

#include "clock.h"

namespace access_limiter {

// Where a MailLimiter keeps its markers: a directory of this user's alone
// (owned by the effective user, a directory and not a link to one, no access
// for group or others), since whoever can write there decides what is mailed.
struct MailDirectories {
  // Used when it already is such a directory; never made here.
  std::string preferred;
  // Otherwise this one, made (mode 0700) on first use.
  std::string fallback;
};

// The CGI's directories: /var/lib/access-limiter/mail, which the package
// makes as root, so no other user can take its name first; else
// $TMPDIR/access-limiter-mail-UID (/tmp when TMPDIR is unset or relative).
// Reads the environment only; touches no file.
MailDirectories defaultMailDirectories();

// What to do with one report of a server error.
struct MailVerdict {
  bool due = false;  // mail it now
  // When due and reports of its cause were held back since the last mail,
  // what the mail adds after the message to say how many:
  // "\n(N more reports of this cause were held back since the last mail;
  // ACCESS_MAIL_INTERVAL=S)". Empty otherwise.
  std::string note;
  // When held back because the directory is not this user's own: why, as a
  // log line ("mail held back: DIR is not ..."). Empty otherwise.
  std::string problem;
};

// At most one mail per cause per interval, decided by the processes of this
// node without a lock. Intervals are `interval_seconds` long from the epoch,
// so that every process agrees on them. The first report of a cause in an
// interval creates a marker (O_EXCL) for that interval and is due; later
// ones add to a count of held-back reports, which the next due one takes
// and states in its note.
//
// A cause is the message without its digits and parenthesised parts (paths),
// so that "open(/srv/access/k/1795-0): Transport endpoint is not connected"
// and the same failure for another key or second are one cause; `scope`
// (the store's root) separates the same message about different stores.
//
// Any trouble with the directory (it cannot be made, a marker cannot be
// created) means mailing: a lost mail is worse than a repeat. The exception
// is a fallback directory that is not this user's own (another user made
// it first, in a shared /tmp): its markers cannot be trusted, and mailing
// every report would let a flood of failures fork a mailer each, so mail is
// held back and the verdict says why.
class MailLimiter {
 public:
  // `interval_seconds` 0 (or less) mails every report and touches no file.
  // `clock` is kept by reference: it must outlive the limiter.
  MailLimiter(const Clock& clock, MailDirectories directories, int interval_seconds,
              std::string scope);

  // Records one report of `message` and says whether to mail it.
  MailVerdict record(std::string_view message) const;

 private:
  const Clock& clock_;
  MailDirectories directories_;
  int interval_seconds_;
  std::string scope_;
};

}  // namespace access_limiter
