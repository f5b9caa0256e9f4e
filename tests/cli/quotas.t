#!/usr/bin/env bash
# Several limits on one key, from a shell: ACCESS_LIMIT as a list (a burst
# and an hour's quota), a key's own list (--key add --limit LIST), their
# RateLimit fields, a 429's violated-policies, Retry-After, --status,
# --check-config, the metrics' policy label, and a day of 20,000 slots
# decided with a logarithm of file lookups.
. "$(dirname "$0")/../lib.sh"

ROOT="$WORK/access"
export ACCESS_ROOT="$ROOT" ACCESS_LIMIT="3/1s,5/1h"
mkdir -p "$ROOT"
NOW=1700000000           # 800 s into an hour: it ends at 1700002800
HOUR=$((NOW - NOW % 3600))

# request KEY [VAR=value...] : one decision by the test build at $AT (or
# $NOW); OUT is its answer (lib.sh's status, header, body read it).
request() {
  local key=$1
  shift
  cgi "$TESTABLE" QUERY_STRING="app_id=$key" ACCESS_TEST_NOW="${AT:-$NOW}" "$@"
}
# burst COUNT KEY [VAR=value...] : COUNT decisions; CODES is their status
# codes, OUT the last answer.
burst() {
  local count=$1 key=$2 i
  shift 2
  CODES=""
  for ((i = 0; i < count; i++)); do
    request "$key" "$@"
    CODES="$CODES$(status) "
  done
}
files() { find "$ROOT/$1" -type f -name "$2" 2>/dev/null | wc -l; }

burst 5 k
is "$CODES" "200 200 200 429 429 " "second 1: three admitted, then the burst limit refuses"
is "$(header RateLimit-Policy)" '"second";q=3;w=1, "hour";q=5;w=3600' "RateLimit-Policy lists every limit"
is "$(header RateLimit) $(header Retry-After)" '"second";r=0;t=1 1' \
  "refused by the burst: RateLimit reports it, Retry-After 1"
is "$(body)" '{"message":"Too Many Requests","violated-policies":["second"]}' \
  "the 429 names the limit it hit (the draft's violated-policies)"
AT=$((NOW + 1))
burst 4 k
is "$CODES" "200 200 429 429 " "second 2: two admitted, then the hour's five are used"
is "$(header RateLimit) $(header Retry-After)" "\"hour\";r=0;t=2799 2799" \
  "refused by the hour: Retry-After when every limit has room, the hour's end"
is "$(body)" '{"message":"Too Many Requests","violated-policies":["hour"]}' "the 429 names the hour"
is "$(files k "$HOUR+3600-*") $(files k "$NOW-*") $(files k "$AT-*")" "5 3 2" \
  "the hour holds the five admitted; a request refused by one limit is counted in none"
AT=$((NOW + 2))
burst 2 k
is "$CODES" "429 429 " "second 3: the burst has room, the hour has not"
is "$(files k "$AT-*")" 0 "nothing counted in that second"
unset AT
request fresh
is "$(status)" 200 "an admission in the hour's first uses"
is "$(header RateLimit)" '"second";r=2;t=1' "RateLimit reports the limit closest to exhaustion (2 of 3 left, not 4 of 5)"
is "$(header Retry-After)" "" "an admission has no Retry-After"

# A key's own list replaces the location's; a plain --limit keeps ACCESS_WINDOW.
"$LIMITER" --key add gold --limit 2/1s,4/1m >/dev/null
is "$("$LIMITER" --key list)" "gold limit=2/1s,4/1m" "--key add --limit LIST registers the list, written canonically"
burst 3 gold
is "$CODES" "200 200 429 " "gold: its own burst of 2"
is "$(header RateLimit-Policy)" '"second";q=2;w=1, "minute";q=4;w=60' "gold's own policies in the field"
AT=$((NOW + 1)) burst 3 gold
is "$CODES" "200 200 429 " "gold, the next second: two more"
is "$(body)" '{"message":"Too Many Requests","violated-policies":["second","minute"]}' \
  "both of gold's limits full: both named"
is "$(header RateLimit) $(header Retry-After)" '"minute";r=0;t=39 39' \
  "Retry-After waits for the later of the two"
"$LIMITER" --key add silver --limit 2 >/dev/null
burst 3 silver ACCESS_LIMIT=9 ACCESS_WINDOW=60
is "$CODES" "200 200 429 " "a plain --limit N still means N per ACCESS_WINDOW"
is "$(header RateLimit-Policy) $(body)" '"default";q=2;w=60 {"message":"Too Many Requests"}' \
  "a plain limit: the default policy, and the seed's 429 body"

# Operators' views and bad input.
status_out=$(ACCESS_TEST_NOW=$((NOW + 2)) "$TESTABLE" --status k)
like "$status_out" 'ACCESS_LIMIT=3/1s,5/1h' "--status names the location's limits"
like "$status_out" 'k +0,5 +3/1s,5/1h +unregistered \(full\)' "--status: the key's use of each limit, full"
like "$(ACCESS_LIMIT="10/1s, 1000/60m" "$LIMITER" --check-config)" 'ACCESS_LIMIT=10/1s,1000/1h' \
  "--check-config shows the list canonically (spaces and units allowed)"
err=$(ACCESS_LIMIT=10/1s,20/1 "$LIMITER" --check-config 2>&1 >/dev/null); rc=$?
is "$rc $err" '1 access-limiter: ACCESS_LIMIT="10/1s,20/1": must be N or a list of N/W such as 10/1s,1000/1h,20000/1d: two limits on the window 1s' \
  "two limits on one window: refused, saying why"
request k ACCESS_LIMIT=10/2d
is "$(status)" 500 "a request under a bad list: 500"
like "$(cat "$WORK/err")" 'ACCESS_LIMIT="10/2d": .*from 1s to 1d' "its log line names the value and the rule"
out=$("$LIMITER" --key add k2 --limit 5/1s,6/1s 2>&1); rc=$?
is "$rc" 2 "--key add with a bad list: exit 2"
like "$out" "two limits on the window 1s" "and why"
is "$(find "$ROOT" -maxdepth 1 -name k2 | wc -l)" 0 "nothing registered"

# The metrics' policy label: the policy the answer's RateLimit named.
mix_cache="$WORK/metrics-cache"
burst 4 mixed ACCESS_NODE_CACHE="$mix_cache"
is "$CODES" "200 200 200 429 " "a mix counted in a node cache of its own"
counters=$(ACCESS_NODE_CACHE="$mix_cache" "$LIMITER" --metrics)
like "$counters" 'access_limiter_decisions_total\{policy="second",outcome="429"\} 1' "the 429 counted under the burst's name"
like "$counters" 'access_limiter_decisions_total\{policy="second",outcome="admitted"\} 3' \
  "the admissions under the policy their RateLimit named"
like "$counters" 'access_limiter_decisions_total\{policy="default",outcome="admitted"\} 0' "none under default"
if command -v promtool >/dev/null; then
  out=$(printf '%s\n' "$counters" | promtool check metrics 2>&1); rc=$?
  is "$rc" 0 "promtool accepts the labelled counters${out:+: $out}"
else
  skip "promtool is not installed (Debian's prometheus package)"
fi

# A day of 20,000 slots, 19,999 taken, on a node that knows nothing of it:
# the last slot is found with a logarithm of lookups, not 20,000.
DAY=$((NOW - NOW % 86400))
mkdir -p "$ROOT/big" && chmod 700 "$ROOT/big"
(cd "$ROOT/big" && seq 0 19998 | sed "s/^/$DAY+86400-/" | xargs touch)
# stat_calls KEY : the stat calls of one decision for KEY; its answer is
# left in $WORK/strace.out.
stat_calls() {
  strace -f -qq -c -o "$WORK/strace" -e trace=newfstatat env ACCESS_ROOT="$ROOT" \
    ACCESS_LIMIT=10/1s,20000/1d ACCESS_NODE_CACHE=off ACCESS_TEST_NOW=$NOW QUERY_STRING="app_id=$1" \
    REQUEST_METHOD=GET "$TESTABLE" >"$WORK/strace.out" 2>/dev/null
  awk '$NF == "newfstatat" { print $4 }' "$WORK/strace"
}
if command -v strace >/dev/null; then
  empty=$(stat_calls empty-day)
  lookups=$(stat_calls big)
  OUT=$(tr -d '\r' <"$WORK/strace.out")
  is "$(status) $(header RateLimit)" "200 \"day\";r=0;t=$((DAY + 86400 - NOW))" "the day's last slot admitted"
  # log2(20,000) is 14.3: a gallop and a halving take at most twice that.
  ok "$([ $((lookups - empty)) -le 30 ] && [ "$lookups" -gt "$empty" ]; echo $?)" \
    "a logarithm of lookups for 20,000 slots: $lookups stat calls, $empty for an empty day"
else
  skip "strace is not installed: the lookups are not counted"; skip "strace is not installed"
fi
request big ACCESS_LIMIT=10/1s,20000/1d ACCESS_NODE_CACHE=off
is "$(status)" 429 "then the day is full"
is "$(body) $(header Retry-After)" "{\"message\":\"Too Many Requests\",\"violated-policies\":[\"day\"]} $((DAY + 86400 - NOW))" \
  "the 429 names the day, and Retry-After is the day's end"
is "$(files big "$NOW-*")" 1 "the burst counted only the admission"

done_testing
