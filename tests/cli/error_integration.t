#!/usr/bin/env bash
# Every failure path ends in the one handler: a 500 JSON if nothing was
# written yet, one log line with the cause, and (when configured) a mail that
# never delays the answer. Faults come from the test build's ACCESS_TEST_FAULT
# switch, which the shipped binary does not have.
. "$(dirname "$0")/../lib.sh"

export ACCESS_ROOT="$WORK/access"
mkdir -p "$ACCESS_ROOT"
export QUERY_STRING='app_id=fault'

# fault | exit status | log line
CASES=$(cat <<'TABLE'
exception|0|access-limiter: 500 Internal Server Error: unexpected exception: injected failure
unknown-exception|0|access-limiter: 500 Internal Server Error: unexpected exception of unknown type
terminate|70|access-limiter: std::terminate called with an uncaught exception: thrown through a noexcept function
segv|139|access-limiter: fatal signal SIGSEGV (invalid memory access)
fpe|136|access-limiter: fatal signal SIGFPE (arithmetic error)
bus|135|access-limiter: fatal signal SIGBUS (bus error)
abort|134|access-limiter: fatal signal SIGABRT (abort)
TABLE
)
while IFS='|' read -r fault exit_status log_line; do
  cgi "$TESTABLE" ACCESS_TEST_FAULT="$fault"
  is "$(status)" 500 "$fault: answers 500"
  is "$(body)" '{"message":"Internal Server Error"}' "$fault: generic JSON body, no internal text"
  is "$(header Content-Type)" 'application/json; charset=utf-8' "$fault: JSON content type"
  is "$ERR" "$log_line" "$fault: one log line naming the cause"
  is "$RC" "$exit_status" "$fault: exit status $exit_status"
done <<<"$CASES"

cgi "$TESTABLE" ACCESS_TEST_FAULT=segv REQUEST_METHOD=HEAD
is "$(status) $(body)" "500 " "a fatal signal during HEAD answers headers only"

cgi "$TESTABLE" ACCESS_TEST_FAULT=segv-after-response
is "$(printf '%s\n' "$OUT" | grep -c '^Status:')" 1 "a crash after the answer began writes no second Status line"
is "$(status)" 200 "the answer already given stands"
like "$ERR" 'fatal signal SIGSEGV' "the crash after the answer is still logged"

cgi "$LIMITER" ACCESS_TEST_FAULT=segv
is "$(status) $RC" "200 0" "the shipped binary has no fault switch"

# Mail: a sendmail stand-in that takes 3 s and records what it was given.
cat >"$WORK/sendmail" <<STUB
#!/bin/sh
sleep 3
{ echo "args: \$*"; cat; env | sed 's/^/env: /'; } >"$WORK/mail.tmp" && mv "$WORK/mail.tmp" "$WORK/mail"
STUB
chmod +x "$WORK/sendmail"
mail_env=(ACCESS_ERROR_MAIL=ops@example.com ACCESS_MAIL_COMMAND="$WORK/sendmail")
wait_for_mail() {
  local i
  for ((i = 0; i < 100; i++)); do
    [ -f "$WORK/mail" ] && return 0
    sleep 0.1
  done
  return 1
}

started=$(date +%s%N)
env "${mail_env[@]}" HTTP_X_API_KEY=sk-live-credential ACCESS_KEY_SECRET=000102030405060708090a0b0c0d0e0f \
  ACCESS_TEST_FAULT=exception "$TESTABLE" 2>/dev/null | cat >"$WORK/answer"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
like "$(head -n 1 "$WORK/answer")" '^Status: 500' "with mail on, the 500 is still answered"
ok "$([ "$elapsed_ms" -lt 2000 ]; echo $?)" "the answer does not wait for the mail program (${elapsed_ms} ms, mail takes 3000 ms)"
wait_for_mail
ok $? "the mail program ran"
like "$(cat "$WORK/mail" 2>/dev/null)" '^args: -i -- ops@example.com' "it was given the address after --"
is "$(grep -c '^env: \(HTTP_\|ACCESS_\|QUERY_STRING\)' "$WORK/mail" 2>/dev/null)" 0 \
  "it runs without the request's environment (headers, settings, the secret)"
like "$(tr '\n' ' ' <"$WORK/mail" 2>/dev/null)" 'Subject: access-limiter server error .*injected failure' "the mail names the cause"

rm -f "$WORK/mail"
cgi "$TESTABLE" "${mail_env[@]}" ACCESS_TEST_FAULT=segv
wait_for_mail
like "$(cat "$WORK/mail" 2>/dev/null)" 'fatal signal SIGSEGV' "a fatal signal is mailed too"

# Every mail sent so far has arrived before the next check begins (it
# failed once in a sanitized run, with a mail arriving in its 3.5 s).
for ((i = 0; i < 100; i++)); do
  pgrep -f "$WORK/sendmail" >/dev/null || break
  sleep 0.1
done
rm -f "$WORK/mail"
cgi "$TESTABLE" "${mail_env[@]}" QUERY_STRING='app_id=../x'
cgi "$TESTABLE" "${mail_env[@]}" QUERY_STRING='app_id=fine'
sleep 3.5
ok "$([ ! -f "$WORK/mail" ]; echo $?)" "client errors and admissions send no mail" ||
  sed 's/^/# mail: /' "$WORK/mail"

# One mail per cause per ACCESS_MAIL_INTERVAL: an outage of the store sends
# one mail, not one per request; the next says how many were held back; the
# log still gets every line.
printf '#!/bin/sh\n{ echo "--- mail"; cat; } >>"%s"\n' "$WORK/mails" >"$WORK/countmail"
chmod +x "$WORK/countmail"
touch "$WORK/not-a-dir"
storm_env=(ACCESS_ERROR_MAIL=ops@example.com ACCESS_MAIL_COMMAND="$WORK/countmail" ACCESS_ROOT="$WORK/not-a-dir/access")
mails() { grep -c '^--- mail' "$WORK/mails" 2>/dev/null || true; }
wait_for_mails() { # wait_for_mails N : until N mails arrived (5 s at most)
  local i
  for ((i = 0; i < 50; i++)); do [ "$(mails)" -ge "$1" ] && return 0; sleep 0.1; done
}
# A fresh 3-second interval: even a sanitized build (about 0.1 s a run)
# fits 10 runs in it.
while [ $(($(date +%s) % 3)) -ne 0 ]; do sleep 0.05; done
storm_interval=$(($(date +%s) / 3))
: >"$WORK/storm.log"
for i in $(seq 10); do
  env "${storm_env[@]}" ACCESS_MAIL_INTERVAL=3 QUERY_STRING="app_id=storm$i" "$LIMITER" >/dev/null 2>>"$WORK/storm.log"
done
wait_for_mails 1
sleep 0.5
is "$(mails)" 1 "10 failing requests with ACCESS_MAIL_INTERVAL=3: one mail"
is "$(grep -c '503 Service Unavailable: open(' "$WORK/storm.log")" 10 "the log has all 10 lines"
while [ $(($(date +%s) / 3)) -eq "$storm_interval" ]; do sleep 0.05; done  # the next interval
env "${storm_env[@]}" ACCESS_MAIL_INTERVAL=3 QUERY_STRING=app_id=storm11 "$LIMITER" >/dev/null 2>&1
wait_for_mails 2
is "$(mails)" 2 "the next interval mails again"
like "$(tr '\n' ' ' <"$WORK/mails")" '9 more reports of this cause were held back since the last mail; ACCESS_MAIL_INTERVAL=3' "and says how many were held back"
: >"$WORK/mails"
for i in 1 2 3; do
  env "${storm_env[@]}" ACCESS_MAIL_INTERVAL=0 QUERY_STRING="app_id=each$i" "$LIMITER" >/dev/null 2>&1
done
wait_for_mails 3
is "$(mails)" 3 "ACCESS_MAIL_INTERVAL=0: every failure is mailed"

# The throttle's directory taken first by another user (in a shared /tmp):
# its markers cannot be trusted, and a mailer per failing request is what
# the throttle prevents. Mail is held back and the log says why.
if [ "$(id -u)" -eq 0 ]; then
  for squat in dir link; do
    mkdir -p "$WORK/tmp-$squat"
    if [ "$squat" = dir ]; then
      install -d -m 0777 -o nobody "$WORK/tmp-$squat/access-limiter-mail-0"
    else
      install -d -m 0700 "$WORK/elsewhere"
      ln -s "$WORK/elsewhere" "$WORK/tmp-$squat/access-limiter-mail-0"
    fi
    : >"$WORK/mails"
    : >"$WORK/squat.log"
    for i in 1 2 3 4 5; do
      env "${storm_env[@]}" TMPDIR="$WORK/tmp-$squat" ACCESS_MAIL_INTERVAL=600 QUERY_STRING="app_id=squat$i" \
        "$LIMITER" >/dev/null 2>>"$WORK/squat.log"
    done
    sleep 1
    is "$(mails)" 0 "a mail directory another user made first ($squat): no mailer per failing request"
    is "$(grep -c 'mail held back: .*access-limiter-mail-0 is not this user' "$WORK/squat.log")" 5 "each report says in the log why no mail went out ($squat)"
    is "$(find "$WORK/elsewhere" "$WORK/tmp-$squat" -mindepth 1 -newer "$WORK/mails" 2>/dev/null | wc -l)" 0 "nothing was written into it ($squat)"
  done
else
  skip "not root: a mail directory owned by another user was NOT tested"
fi

done_testing
