#!/usr/bin/env bash
# Every failure path ends in the one handler: a 500 JSON if nothing was
# written yet, one log line with the cause, and (when configured) a mail that
# never delays the answer. Faults come from the test build's ACCESS_TEST_FAULT
# switch, which the shipped binary does not have.
. "$(dirname "$0")/../lib.sh"

export ACCESS_ROOT="$WORK/access"
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
{ echo "args: \$*"; cat; } >"$WORK/mail.tmp" && mv "$WORK/mail.tmp" "$WORK/mail"
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
env "${mail_env[@]}" ACCESS_TEST_FAULT=exception "$TESTABLE" 2>/dev/null | cat >"$WORK/answer"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
like "$(head -n 1 "$WORK/answer")" '^Status: 500' "with mail on, the 500 is still answered"
ok "$([ "$elapsed_ms" -lt 2000 ]; echo $?)" "the answer does not wait for the mail program (${elapsed_ms} ms, mail takes 3000 ms)"
wait_for_mail
ok $? "the mail program ran"
like "$(cat "$WORK/mail" 2>/dev/null)" '^args: -i -- ops@example.com' "it was given the address after --"
like "$(tr '\n' ' ' <"$WORK/mail" 2>/dev/null)" 'Subject: access-limiter server error .*injected failure' "the mail names the cause"

rm -f "$WORK/mail"
cgi "$TESTABLE" "${mail_env[@]}" ACCESS_TEST_FAULT=segv
wait_for_mail
like "$(cat "$WORK/mail" 2>/dev/null)" 'fatal signal SIGSEGV' "a fatal signal is mailed too"

rm -f "$WORK/mail"
cgi "$TESTABLE" "${mail_env[@]}" QUERY_STRING='app_id=../x'
cgi "$TESTABLE" "${mail_env[@]}" QUERY_STRING='app_id=fine'
sleep 3.5
ok "$([ ! -f "$WORK/mail" ]; echo $?)" "client errors and admissions send no mail"

done_testing
