#!/usr/bin/env bash
# The cost of a decision does not grow with the requests already made in its
# second: counted as the store's system calls (strace), which do not depend on
# how busy the machine is, nor on the allocator or a sanitizer runtime. A
# rejection writes nothing, and costs nothing once the node knows the window
# is full.
. "$(dirname "$0")/../lib.sh"

if ! command -v strace >/dev/null; then
  skip "strace is not installed; the cost per decision was NOT checked"
  done_testing
  exit
fi
export ACCESS_ROOT="$WORK/access" ACCESS_LIMIT=256 ACCESS_TEST_NOW=1700000000 QUERY_STRING=app_id=busy
mkdir -p "$ACCESS_ROOT"

# calls : the system calls of one request that touch the store: a path under
# ACCESS_ROOT, the key's directory opened relative to the root, or a slot
# name resolved against that directory.
calls() { calls_for_key busy; }
calls_for_key() {
  timeout 20 strace -f -o "$WORK/trace" "$TESTABLE" >/dev/null 2>&1
  grep -c -e "$ACCESS_ROOT" -e "\"$1\"" -e '".policy"' -e '"1700000000-' -e '"1700000001-' -e '"1699999990-' "$WORK/trace"
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
is "$at_128 $at_255" "$second $second" "the 128th and 255th admissions cost what the 2nd does: the node knows where to claim"
is "$rejected" 0 "a window this node knows is full is refused without asking the store"
is "$(find "$ACCESS_ROOT/busy" -type f | wc -l)" 256 "the rejection wrote nothing: 256 slots for 256 admissions"
is "$(grep -c -e 'getdents' "$WORK/trace")" 0 "no decision lists a directory"

# A node that knows nothing (its cache off, or another node filled the
# window): it asks the store, at O(log limit) calls.
cold_full=$(ACCESS_NODE_CACHE=off calls)
echo "# without the node cache: a full window costs $cold_full calls"
ok "$([ "$cold_full" -gt 0 ] && [ "$cold_full" -le "$((second + 2))" ]; echo $?)" "without the node cache a full window is found in one look ($cold_full calls)"
is "$(find "$ACCESS_ROOT/busy" -type f | wc -l)" 256 "and nothing is created for the rejection"
ACCESS_TEST_NOW=1700000001 "$TESTABLE" >/dev/null
mkdir -p "$ACCESS_ROOT/partial"
for slot in $(seq 0 99); do touch "$ACCESS_ROOT/partial/1700000000-$slot"; done
cold_partial=$(QUERY_STRING=app_id=partial ACCESS_NODE_CACHE=off calls_for_key partial)
echo "# without the node cache: an admission after 100 of 256 costs $cold_partial calls"
ok "$([ "$cold_partial" -le "$((second + 2 + 2 * 8))" ]; echo $?)" "and an admission into a partly full window costs O(log limit) calls ($cold_partial)"

# A key holding only past windows: the request that opens the next one
# costs what any admission costs, whatever those windows hold; requests
# never collect (--gc does).
mkdir -p "$ACCESS_ROOT/stale"
for slot in $(seq 0 255); do touch "$ACCESS_ROOT/stale/1699999990-$slot"; done
opening=$(QUERY_STRING=app_id=stale calls_for_key stale)
echo "# opening a window past 256 stale slots: $opening"
ok "$([ "$opening" -le "$((second + 1))" ]; echo $?)" "opening a window past a full one costs what an admission does ($opening calls)"
is "$(find "$ACCESS_ROOT/stale" -type f | wc -l)" 257 "and removes nothing"

done_testing
