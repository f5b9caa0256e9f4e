#!/usr/bin/env bash
# The cost of a decision does not grow with the requests already made in its
# second: counted as the store's system calls (strace), which do not depend on
# how busy the machine is, nor on the allocator or a sanitizer runtime. A
# rejection writes nothing and costs no more than an admission.
. "$(dirname "$0")/../lib.sh"

if ! command -v strace >/dev/null; then
  skip "strace is not installed; the cost per decision was NOT checked"
  done_testing
  exit
fi
export ACCESS_ROOT="$WORK/access" ACCESS_LIMIT=256 ACCESS_TEST_NOW=1700000000 QUERY_STRING=app_id=busy

# calls : the system calls of one request that touch the store: a path under
# ACCESS_ROOT, the key's directory opened relative to the root, or a slot
# name resolved against that directory.
calls() { calls_for_key busy; }
calls_for_key() {
  timeout 20 strace -f -o "$WORK/trace" "$TESTABLE" >/dev/null 2>&1
  grep -c -e "$ACCESS_ROOT" -e "\"$1\"" -e '"1700000000-' -e '"1700000001-' -e '"1699999990-' "$WORK/trace"
}
admit_until() { # admit_until N : makes requests until N slots are taken
  local have
  have=$(find "$ACCESS_ROOT/busy" -type f 2>/dev/null | wc -l)
  while [ "$have" -lt "$1" ]; do "$TESTABLE" >/dev/null; have=$((have + 1)); done
}

admit_until 1
second=$(calls)
admit_until 127
at_128=$(calls)
admit_until 254
at_255=$(calls)
admit_until 256
rejected=$(calls)
echo "# store system calls per decision: 2nd $second, 128th $at_128, 255th $at_255, rejected $rejected"
ok "$([ "$at_128" -le "$((second + 2))" ] && [ "$at_255" -le "$((second + 2))" ]; echo $?)" \
  "the 128th and 255th admissions cost what the 2nd does (binary search: O(log limit))"
ok "$([ "$rejected" -lt "$second" ]; echo $?)" "a rejection costs less than an admission"
is "$(find "$ACCESS_ROOT/busy" -type f | wc -l)" 256 "the rejection wrote nothing: 256 slots for 256 admissions"
is "$(grep -c 'O_CREAT' "$WORK/trace")" 0 "the rejected request opened nothing for writing"
# A key holding only past windows: the request that opens the next one
# looks at now and now + 1 s only (then claims, and collects what it listed).
mkdir -p "$ACCESS_ROOT/stale"
for slot in 0 1 2; do touch "$ACCESS_ROOT/stale/1699999990-$slot"; done
opening=$(QUERY_STRING=app_id=stale calls_for_key stale)
echo "# opening a window past 3 stale slots: $opening"
ok "$([ "$opening" -le "$((second + 6))" ]; echo $?)" "opening a window past stale ones costs about what an admission does ($opening calls)"

done_testing
