#!/usr/bin/env bash
# The operator's policies, from a shell: keys registered with --key (their
# own limit, unlimited, blocked), ACCESS_KNOWN_KEYS_ONLY, ACCESS_DRY_RUN,
# ACCESS_WINDOW, --status, and the log line of a key reaching its limit.
. "$(dirname "$0")/../lib.sh"

ROOT="$WORK/access"
export ACCESS_ROOT="$ROOT" ACCESS_LIMIT=10
NOW=1700000000

# request KEY [VAR=value...] : one decision by the test build at $NOW;
# prints its status code.
request() {
  local key=$1
  shift
  cgi "$TESTABLE" QUERY_STRING="app_id=$key" ACCESS_TEST_NOW="${AT:-$NOW}" "$@"
  status
}
burst() { # burst COUNT KEY [VAR=value...] : the status codes of COUNT decisions
  local count=$1 key=$2 i codes=""
  shift 2
  for ((i = 0; i < count; i++)); do codes="$codes$(request "$key" "$@") "; done
  echo "$codes"
}
slots() { find "$ROOT/$1" -type f 2>/dev/null | wc -l; }

# --key: input checked before any change, a clear error, an exit status.
out=$("$LIMITER" --key --help); rc=$?
is "$rc" 0 "--key --help exits 0"
like "$out" 'add KEY \[--limit N|LIST \| --unlimited \| --blocked\]' "--key --help gives the usage"
like "$("$LIMITER" --key add --help)" 'remove KEY' "--key add --help gives it too"
for args in "" "add" "frobnicate x" "add ../escape" "add .hidden" "add k --limit" "add k --limit 0" \
  "add k --limit 100001" "add k --limit 5x" "add k --unlimited --blocked" "add k --fast" "remove" \
  "remove a b" "list extra"; do
  # shellcheck disable=SC2086 # the words are the arguments
  err=$("$LIMITER" --key $args 2>&1 >/dev/null); rc=$?
  ok "$([ "$rc" -eq 2 ] && [[ $err == "access-limiter: --key "*"see access-limiter --key --help" ]]; echo $?)" \
    "--key $args: exit 2 with a message ($err)"
done
ok "$([ ! -e "$ROOT" ]; echo $?)" "no bad command line changed anything"

err=$("$LIMITER" --key add alpha --limit 3 2>&1); rc=$?
is "$rc $err" "1 access-limiter: ACCESS_ROOT $ROOT: No such file or directory (a typo, or the volume is not mounted?)" \
  "--key add on a missing ACCESS_ROOT is refused: it would make a store no web server could write"
mkdir -p "$ROOT"
err=$(ACCESS_LIMIT=abc "$LIMITER" --key bogus 2>&1); rc=$?
is "$rc" 2 "a bad command line exits 2 even with a bad setting in the environment"
err=$(ACCESS_ROOT="$WORK/missing" "$LIMITER" --key remove k 2>&1); rc=$?
like "$rc $err" "^1 access-limiter: ACCESS_ROOT $WORK/missing: No such file or directory" "--key remove on a missing store says so, not that the key was not registered"
err=$(ACCESS_ROOT="$WORK/missing" "$LIMITER" --status k 2>&1); rc=$?
like "$rc $err" "^1 access-limiter: ACCESS_ROOT $WORK/missing: No such file" "--status KEY on a missing store says so"
like "$("$LIMITER" --status --help)" '^Usage: access-limiter' "--status --help prints the usage, not a key named --help"
out=$("$LIMITER" --key add alpha --limit 3); rc=$?
is "$rc $out" "0 access-limiter: alpha limit=3" "--key add KEY --limit N"
"$LIMITER" --key add vip --unlimited >/dev/null && "$LIMITER" --key add mallory --blocked >/dev/null &&
  "$LIMITER" --key add plain >/dev/null
ok $? "--key add --unlimited, --blocked, and with no option"
is "$("$LIMITER" --key list | tr '\n' ' ')" "alpha limit=3 mallory blocked plain limit=default vip unlimited " \
  "--key list: every registered key and its policy, by name"
err=$("$LIMITER" --key remove nobody 2>&1); rc=$?
is "$rc $err" "1 access-limiter: nobody was not registered" "--key remove of an unregistered key: exit 1"

# A key's own limit.
is "$(burst 5 alpha)" "200 200 200 429 429 " "alpha (limit 3): three of five admitted"
request alpha >/dev/null
is "$(header RateLimit-Policy)" '"default";q=3;w=1' "RateLimit-Policy gives the key's own limit"
is "$(burst 12 plain)" "200 200 200 200 200 200 200 200 200 200 429 429 " "a key registered with no limit gets ACCESS_LIMIT"
is "$(burst 12 stranger)" "200 200 200 200 200 200 200 200 200 200 429 429 " "an unregistered key gets ACCESS_LIMIT"
"$LIMITER" --key add alpha --limit 5 >/dev/null
is "$(AT=$((NOW + 1)) burst 6 alpha)" "200 200 200 200 200 429 " "a changed limit holds from the next second, with no reload"
is "$("$LIMITER" --key add -- -h --limit 2)" "access-limiter: -h limit=2" "a key starting with '-' is registered after --"
mkdir -p "$ROOT/zero" && ln -s limit=0 "$ROOT/zero/.policy"
out=$("$LIMITER" --key list 2>"$WORK/list.err"); rc=$?
is "$rc $(cat "$WORK/list.err")" "1 access-limiter: $ROOT/zero/.policy is not a policy" "--key list names a bad policy and exits 1"
like "$out" '^-h limit=2' "and lists the other keys all the same"
rm -rf "$ROOT/zero" "$ROOT/-h"

# Unlimited and blocked.
is "$(burst 30 vip | tr ' ' '\n' | sort -u | tr '\n' ' ')" " 200 " "vip (unlimited): 30 of 30 admitted"
is "$(slots vip)" 0 "an unlimited key is never counted: no slot written"
request vip >/dev/null
is "$(header RateLimit-Policy)" "" "and carries no RateLimit fields: it has no limit"
request mallory >/dev/null
is "$(status) $(body)" '403 {"message":"Forbidden","detail":"key mallory is blocked"}' "a blocked key: 403 JSON naming it"
is "$(slots mallory)" 0 "a blocked key writes nothing"

# Known keys only.
request newcomer ACCESS_KNOWN_KEYS_ONLY=1 >/dev/null
is "$(status) $(body)" '401 {"message":"Unauthorized","detail":"unknown key: newcomer is not registered (ACCESS_KNOWN_KEYS_ONLY=1)"}' \
  "ACCESS_KNOWN_KEYS_ONLY=1: an unregistered key gets 401 JSON"
ok "$([ ! -e "$ROOT/newcomer" ]; echo $?)" "and makes no directory"
before=$(find "$ROOT" | wc -l)
for i in $(seq 50); do request "random$i" ACCESS_KNOWN_KEYS_ONLY=1 >/dev/null; done
is "$(find "$ROOT" | wc -l)" "$before" "50 random unknown keys wrote nothing"
is "$(AT=$((NOW + 2)) burst 4 alpha ACCESS_KNOWN_KEYS_ONLY=1)" "200 200 200 200 " "a registered key is counted as usual"
"$LIMITER" --key remove plain >/dev/null
is "$(AT=$((NOW + 2)) request plain ACCESS_KNOWN_KEYS_ONLY=1)" 401 "a removed key is unknown from the next second"
"$LIMITER" --check-config >/dev/null
err=$(ACCESS_KNOWN_KEYS_ONLY=yes "$LIMITER" --check-config 2>&1 >/dev/null); rc=$?
is "$rc $err" '1 access-limiter: ACCESS_KNOWN_KEYS_ONLY="yes": must be 0 or 1' "ACCESS_KNOWN_KEYS_ONLY must be 0 or 1"

# The log line: once per key per window, when the key reaches its limit.
request limited ACCESS_LIMIT=2 >/dev/null
is "$ERR" "" "an admission below the limit logs nothing"
request limited ACCESS_LIMIT=2 >/dev/null
is "$ERR" "access-limiter: key limited reached its limit of 2 per 1 s (window $NOW)" "the admission that fills the window logs it once"
request limited ACCESS_LIMIT=2 >/dev/null
is "$(status) $ERR" "429 " "a refusal after it logs nothing"

# Dry run: counted as usual, every request admitted, and the answer says
# what enforcing would have done.
codes="" dry=""
for _ in 1 2 3 4; do
  request shadow ACCESS_LIMIT=2 ACCESS_DRY_RUN=1 >/dev/null
  codes="$codes$(status) "
  dry="$dry$(header Access-Limiter-Dry-Run) "
  errs="${errs:-}$ERR"
done
is "$codes" "200 200 200 200 " "ACCESS_DRY_RUN=1: four of four admitted at limit 2"
is "$dry" "200 200 429 429 " "Access-Limiter-Dry-Run gives what enforcing would have answered"
is "$(header RateLimit)" '"default";r=0;t=1' "the RateLimit fields are those of enforcing"
is "$(header Retry-After)" "" "but no Retry-After on a 200"
is "$(slots shadow)" 2 "a dry run counts as usual: two slots"
is "$errs" "access-limiter: key shadow reached its limit of 2 per 1 s (window $NOW); dry run: requests past it are admitted" \
  "the log says once that the key reached its limit, and that the dry run admits past it"
request mallory ACCESS_DRY_RUN=1 >/dev/null
is "$(status) $(header Access-Limiter-Dry-Run)" "200 403" "a dry run admits a blocked key, and says 403"
request unknown1 ACCESS_DRY_RUN=1 ACCESS_KNOWN_KEYS_ONLY=1 >/dev/null
is "$(status) $(header Access-Limiter-Dry-Run)" "200 401" "and an unknown one, saying 401"

# Longer windows, aligned on the epoch: ACCESS_WINDOW=60 is per minute.
MINUTE=1700000040  # a multiple of 60
codes=""
for at in $((MINUTE + 5)) $((MINUTE + 20)) $((MINUTE + 40)) $((MINUTE + 50)); do
  AT=$at request minute ACCESS_WINDOW=60 ACCESS_LIMIT=3 >/dev/null
  codes="$codes$(status) "
done
is "$codes" "200 200 200 429 " "ACCESS_WINDOW=60, limit 3: three requests in one minute, then 429"
is "$(header RateLimit-Policy)" '"default";q=3;w=60' "RateLimit-Policy gives w=60"
is "$(header Retry-After) $(header RateLimit)" '10 "default";r=0;t=10' "Retry-After and t count to the end of the minute"
is "$(AT=$((MINUTE + 60)) request minute ACCESS_WINDOW=60 ACCESS_LIMIT=3)" 200 "the next minute admits again"
is "$(find "$ROOT/minute" -type f -printf '%f\n' | sort | tr '\n' ' ')" \
  "$MINUTE+60-0 $MINUTE+60-1 $MINUTE+60-2 $((MINUTE + 60))+60-0 " "a minute's slots are named START+60-SLOT"
is "$(AT=$((MINUTE + 5)) request minute ACCESS_WINDOW=1 ACCESS_LIMIT=3)" 200 "the same key in one-second windows is another counter"
ACCESS_TEST_NOW=$((MINUTE + 61)) "$TESTABLE" --gc >/dev/null
is "$(find "$ROOT/minute" -name "$MINUTE+60-*" | wc -l)" 0 "--gc removes a minute once it has ended"
is "$(find "$ROOT/minute" -name "$((MINUTE + 60))+60-*" | wc -l)" 1 "and keeps the current one"
for bad in 0 86401 1.5 -1 60s ""; do
  err=$(ACCESS_WINDOW=$bad "$LIMITER" --check-config 2>&1 >/dev/null); rc=$?
  like "$rc $err" "^1 access-limiter: ACCESS_WINDOW=\"$bad\": must be whole seconds from 1 to 86400" "ACCESS_WINDOW=$bad is refused"
done

# --status: from the store, busiest first, with each key's policy.
AT=$((NOW + 5))
burst 3 alpha >/dev/null
burst 7 busy >/dev/null
burst 1 quiet >/dev/null
out=$(ACCESS_TEST_NOW=$AT "$TESTABLE" --status); rc=$?
is "$rc" 0 "--status exits 0"
is "$(sed -n '3,5p' <<<"$out" | awk '{print $1, $2, $3, $4}' | tr '\n' ' ')" "busy 7 10 unregistered alpha 3 5 limit=5 quiet 1 10 unregistered " \
  "--status lists the busiest keys first, with use, limit and policy"
like "$(grep '^vip ' <<<"$out")" '^vip +- +- +unlimited$' "an unlimited key shows no count"
like "$(grep '^mallory ' <<<"$out")" '^mallory +- +- +blocked$' "a blocked key too"
burst 3 busy >/dev/null
like "$(ACCESS_TEST_NOW=$AT "$TESTABLE" --status busy | tail -n 1)" '^busy +10 +10 +unregistered \(full\)$' "--status KEY: one key, marked full"
mkdir -p "$ROOT/broken" && ln -s limit=banana "$ROOT/broken/.policy"
out=$(ACCESS_TEST_NOW=$AT "$TESTABLE" --status); rc=$?
is "$rc" 1 "--status with one unreadable policy exits 1"
like "$(grep '^broken ' <<<"$out")" "unreadable: $ROOT/broken/.policy is not a policy" "and lists that key as unreadable"
like "$(grep '^busy ' <<<"$out")" '^busy +10 +10' "and still lists the others"
request broken >/dev/null
is "$(status)" 503 "a request for a key with a malformed policy: 503"
rm -rf "$ROOT/broken"
err=$("$LIMITER" --status ../x 2>&1); rc=$?
like "$rc $err" "^2 access-limiter: --status '../x': must be" "--status refuses a malformed key"

# --key add runs as the store's owner: what it makes, the web server must
# be able to write beside.
if [ "$(id -u)" -eq 0 ] && id www-data >/dev/null 2>&1; then
  chmod 0755 "$WORK"
  mkdir -p "$WORK/owned" && chown www-data "$WORK/owned"
  err=$(ACCESS_ROOT="$WORK/owned" "$LIMITER" --key add k 2>&1); rc=$?
  like "$rc $err" "^1 access-limiter: $WORK/owned belongs to uid $(id -u www-data): run --key add as that user" \
    "--key add by another user than the store's owner is refused, saying whom to run it as"
  out=$(runuser -u www-data -- env ACCESS_ROOT="$WORK/owned" ACCESS_NODE_CACHE=off "$LIMITER" --key add k --limit 2); rc=$?
  is "$rc $(stat -c %U "$WORK/owned/k")" "0 www-data" "as the owner it works, and the key's directory is the owner's"
else
  skip "needs root and www-data; NOT checked: --key add by another user than the store's owner"
  skip "see above"
fi

done_testing
