#!/usr/bin/env bash
# When the store fails, the limiter cannot decide: 503 by default, or admit
# with ACCESS_FAIL_OPEN=1; either way one log line names the call, the path
# and the reason, and the counters already on disk are kept. The failing file
# systems are real: tmpfs mounts made (and unmounted) here.
. "$(dirname "$0")/../lib.sh"

export QUERY_STRING='app_id=k'

# A root that does not exist, as on a node whose volume failed to mount: a
# request never makes it (a local one would count this node apart from the
# cluster), and the health check fails so that the balancers drop the node.
mkdir "$WORK/mountpoint"
cgi "$LIMITER" ACCESS_ROOT="$WORK/mountpoint/access"
is "$(status) $(body)" '503 {"message":"Service Unavailable"}' "a missing root: 503 JSON"
like "$ERR" "ACCESS_ROOT $WORK/mountpoint/access does not exist: requests never create it \(a volume not mounted\?\)" \
  "the log says why"
cgi "$HEALTH" ACCESS_ROOT="$WORK/mountpoint/access"
like "$(status) $(body)" '^503 .*"reason":"ACCESS_ROOT is not writable: No such file or directory"' "health: 503 with the reason"
ok "$([ -z "$(ls -A "$WORK/mountpoint")" ]; echo $?)" "neither created anything"

# The store's root is a regular file: ENOTDIR.
touch "$WORK/file"
cgi "$LIMITER" ACCESS_ROOT="$WORK/file/access"
is "$(status) $(body)" '503 {"message":"Service Unavailable"}' "root under a regular file: 503 JSON"
like "$ERR" "^access-limiter: 503 Service Unavailable: (open|mkdir)\\($WORK/file/access.*\\): Not a directory$" "the log names call, path and reason"
cgi "$LIMITER" ACCESS_ROOT="$WORK/file/access" ACCESS_FAIL_OPEN=1
is "$(status) $(body)" '200 {"message":"OK"}' "ACCESS_FAIL_OPEN=1: admitted anyway"
like "$ERR" 'store failed, admitting unlimited \(ACCESS_FAIL_OPEN=1\): .*Not a directory' "fail-open is logged"
is "$(header RateLimit)" "" "a fail-open answer claims no quota it did not count"
cgi "$HEALTH" ACCESS_ROOT="$WORK/file/access"
is "$(status)" 503 "health: 503 for the same root"
like "$(body)" '"reason":"ACCESS_ROOT is not writable: Not a directory"' "health gives the reason"

# A store that never answers (the test build's hang-store fault, where the
# store would be called): answered at ACCESS_STORE_TIMEOUT, and the process
# is gone with its answer. Only the watchdog ends such a run, so each run is
# bounded here: one it did not end fails by name, well before CTest's
# TIMEOUT would stop the whole script.
started=$(date +%s%N)
mkdir -p "$WORK/hung" "$WORK/local"
hung_cgi "$TESTABLE" ACCESS_ROOT="$WORK/hung" ACCESS_TEST_FAULT=hang-store ACCESS_STORE_TIMEOUT=0.5
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
watchdog_ended_it "a hung store"
is "$(status) $(body)" '503 {"message":"Service Unavailable"}' "a hung store: 503 JSON"
ok "$([ "$elapsed_ms" -ge 450 ] && [ "$elapsed_ms" -lt 3000 ]; echo $?)" "answered at ACCESS_STORE_TIMEOUT=0.5 (${elapsed_ms} ms), and the process has exited"
like "$ERR" '^access-limiter: 503 Service Unavailable: the store did not answer within 0.5 s \(ACCESS_STORE_TIMEOUT\) under ' "the log gives the cause"
hung_cgi "$TESTABLE" ACCESS_ROOT="$WORK/hung" ACCESS_TEST_FAULT=hang-store ACCESS_STORE_TIMEOUT=0.2 ACCESS_FAIL_OPEN=1
watchdog_ended_it "a hung store with ACCESS_FAIL_OPEN=1"
is "$(status) $(header RateLimit)" "200 " "a hung store with ACCESS_FAIL_OPEN=1: admitted, uncounted"
like "$ERR" 'did not answer within 0.2 s .*admitting unlimited' "and logged"
cgi "$LIMITER" ACCESS_STORE_TIMEOUT=soon
is "$(status)" 500 "a bad ACCESS_STORE_TIMEOUT answers 500"
like "$ERR" 'ACCESS_STORE_TIMEOUT="soon": must be 0 \(no bound, for a local store\) or seconds from 0.1 to 60' "and names the rule"
cgi "$LIMITER" ACCESS_ROOT="$WORK/local" ACCESS_STORE_TIMEOUT=0
is "$(status)" 200 "ACCESS_STORE_TIMEOUT=0: no bound, decisions as usual"

if [ "$(id -u)" -ne 0 ]; then
  skip "read-only and full file systems need root to mount tmpfs; not root"
  done_testing
  exit
fi
mounts=()
cleanup() {
  local m
  for m in ${mounts[@]+"${mounts[@]}"}; do umount "$m" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# A read-only file system: EROFS.
mkdir "$WORK/ro"
mount -t tmpfs -o size=1m tmpfs "$WORK/ro" && mounts+=("$WORK/ro")
mkdir "$WORK/ro/access" && mount -o remount,ro "$WORK/ro"
cgi "$LIMITER" ACCESS_ROOT="$WORK/ro/access"
is "$(status)" 503 "read-only file system: 503"
like "$ERR" 'mkdir\(.*/ro/access/k\): Read-only file system$' "the log says read-only"

# A full file system: a tmpfs with room for 6 inodes (its root, the access
# and key directories, and 3 slots).
mkdir "$WORK/full"
mount -t tmpfs -o size=1m,nr_inodes=6 tmpfs "$WORK/full" && mounts+=("$WORK/full")
export ACCESS_ROOT="$WORK/full/access"
mkdir "$ACCESS_ROOT"
answers=""
for _ in 1 2 3 4; do
  cgi "$TESTABLE" ACCESS_TEST_NOW=1700000000 ACCESS_LIMIT=10
  answers="$answers$(status) "
done
is "$answers" "200 200 200 503 " "admitted until the file system is full, then 503"
like "$ERR" "open\\($WORK/full/access/k/1700000000-3\\): No space left on device$" "the log names the slot that could not be created"
is "$(find "$ACCESS_ROOT/k" -type f | sort | tr '\n' ' ')" "$ACCESS_ROOT/k/1700000000-0 $ACCESS_ROOT/k/1700000000-1 $ACCESS_ROOT/k/1700000000-2 " \
  "the three admissions already counted are kept, nothing half-made"
cgi "$TESTABLE" ACCESS_TEST_NOW=1700000000 ACCESS_LIMIT=10 ACCESS_FAIL_OPEN=1
is "$(status)" 200 "full file system with ACCESS_FAIL_OPEN=1: admitted"
cgi "$HEALTH"
is "$(status)" 503 "health: 503 on a full file system"
like "$(body)" 'No space left on device' "health says the store is full"
cgi "$TESTABLE" ACCESS_TEST_NOW=1700000000 ACCESS_LIMIT=3
is "$(status)" 429 "a full window still answers 429 without writing: deciding needs no space"
cgi "$TESTABLE" ACCESS_TEST_NOW=1700000005 ACCESS_LIMIT=10
is "$(status)" 503 "a new second cannot be counted while full"
out=$(ACCESS_ROOT="$ACCESS_ROOT" "$LIMITER" --gc)
like "$out" 'removed 1 past windows' "--gc frees the old window"
cgi "$TESTABLE" ACCESS_TEST_NOW=1700000005 ACCESS_LIMIT=10
is "$(status)" 200 "once space is back, admissions resume"

done_testing
