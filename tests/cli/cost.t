#!/usr/bin/env bash
# The cost of a decision does not grow with the requests already made in its
# second: counted in system calls (strace), which do not depend on how busy
# the machine is. A rejection writes nothing and costs no more than an admission.
. "$(dirname "$0")/../lib.sh"

if ! command -v strace >/dev/null; then
  skip "strace is not installed; the cost per decision was NOT checked"
  done_testing
  exit
fi
export ACCESS_ROOT="$WORK/access" ACCESS_LIMIT=1000 ACCESS_TEST_NOW=1700000000 QUERY_STRING=app_id=busy

# calls : the system calls of one request by the test build, counted after
# the program's own start-up (the first signal handler it installs).
calls() {
  strace -f -o "$WORK/trace" "$TESTABLE" >/dev/null 2>&1
  sed -n '/sigaltstack/,$p' "$WORK/trace" | grep -vc 'exit_group\|+++ exited'
}
admit_until() { # admit_until N : makes requests until N slots are taken
  local have
  have=$(find "$ACCESS_ROOT/busy" -type f 2>/dev/null | wc -l)
  while [ "$have" -lt "$1" ]; do "$TESTABLE" >/dev/null; have=$((have + 1)); done
}

admit_until 1
second=$(calls)
admit_until 499
at_500=$(calls)
admit_until 998
at_999=$(calls)
admit_until 1000
rejected=$(calls)
echo "# system calls per decision: 2nd $second, 500th $at_500, 999th $at_999, rejected $rejected"
ok "$([ "$at_500" -le "$((second + 2))" ] && [ "$at_999" -le "$((second + 2))" ]; echo $?)" \
  "the 500th and 999th admissions cost what the 2nd does (binary search: O(log limit))"
ok "$([ "$rejected" -lt "$second" ]; echo $?)" "a rejection costs less than an admission"
is "$(find "$ACCESS_ROOT/busy" -type f | wc -l)" 1000 "the rejection wrote nothing: 1000 slots for 1000 admissions"
is "$(grep -c 'O_CREAT' "$WORK/trace")" 0 "the rejected request opened nothing for writing"

done_testing
