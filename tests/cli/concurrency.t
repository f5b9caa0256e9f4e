#!/usr/bin/env bash
# Many CGI processes at once on one ACCESS_ROOT, as under a busy Apache:
# exactly N are admitted per window, whatever the interleaving.
. "$(dirname "$0")/../lib.sh"

# burst PROGRAM COUNT KEY [VAR=value ...] : starts COUNT processes that wait
# on one gate, opens it for all at once, and prints how many answered 200.
# The gate is a lock we hold: a process that comes late finds it open and
# runs at once, and if this script dies the lock goes with it, so no process
# can be stranded (each also gives up waiting after 60 s).
burst() {
  local program=$1 count=$2 key=$3 i gate_fd
  shift 3
  local gate="$WORK/gate" results="$WORK/results"
  : >"$results"
  exec {gate_fd}>"$gate"
  flock -x "$gate_fd"
  for ((i = 0; i < count; i++)); do
    (
      exec {gate_fd}>&-
      flock -s -w 60 "$gate" true
      env "$@" QUERY_STRING="app_id=$key" "$program" | head -n 1 | tr -d '\r' >>"$results"
    ) &
  done
  sleep 0.3  # most processes are waiting at the gate by now; late ones are fine
  [ -z "${PINNED:-}" ] && wait_for_fresh_second
  flock -u "$gate_fd"
  exec {gate_fd}>&-
  wait
  grep -c '^Status: 200' "$results"
}

# The production binary on the wall clock: retried if a burst happens to
# straddle two seconds (slots in two windows), which would be fair to admit
# twice as many. A slow build (sanitizers) may straddle every time; then what
# is checked is the per-window rule: no window over the limit, and every 200
# is one slot on disk.
for limit in 1 10; do
  for attempt in 1 2 3; do
    root="$WORK/wall-$limit-$attempt"
    mkdir -p "$root"
    admitted=$(burst "$LIMITER" 30 hot ACCESS_ROOT="$root" ACCESS_LIMIT=$limit)
    per_window=$(find "$root/hot" -type f -printf '%f\n' | cut -d- -f1 | sort | uniq -c | awk '{print $1}')
    [ "$(wc -l <<<"$per_window")" -eq 1 ] && break
    echo "# burst crossed a second boundary ($(tr '\n' ' ' <<<"$per_window")per window); trying again"
  done
  slots=$(find "$root/hot" -type f | wc -l)
  if [ "$(wc -l <<<"$per_window")" -eq 1 ]; then
    is "$admitted" "$limit" "30 concurrent processes, limit $limit, one second: exactly $limit admitted"
  else
    over=$(for n in $per_window; do [ "$n" -gt "$limit" ] && echo "$n"; done)
    is "$over" "" "30 concurrent processes, limit $limit, straddling seconds: no window over $limit"
  fi
  is "$slots" "$admitted" "limit $limit: one slot file per admission, none for rejections"
done

# The test build with a pinned clock: 100 processes, several limits.
export PINNED=1
for limit in 1 7 50 99; do
  mkdir -p "$WORK/pinned-$limit"
  admitted=$(burst "$TESTABLE" 100 pinned ACCESS_ROOT="$WORK/pinned-$limit" ACCESS_LIMIT=$limit ACCESS_TEST_NOW=1700000000)
  is "$admitted" "$limit" "100 concurrent processes, limit $limit: exactly $limit admitted"
done

done_testing
