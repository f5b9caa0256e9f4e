#!/usr/bin/env bash
# Whatever ACCESS_ROOT contains, the limiter creates and removes nothing
# outside it and nothing inside it that is not its own; a window left far in
# the future by a node whose clock was off neither locks a key out nor stays;
# and --gc goes on past what it cannot read.
. "$(dirname "$0")/../lib.sh"

ROOT="$WORK/access"
OUTSIDE="$WORK/outside"
mkdir -p "$ROOT" "$OUTSIDE"
export ACCESS_ROOT="$ROOT"
NOW=1700000000

# A link planted in the store is never followed.
touch "$OUTSIDE/1000000000-0"
ln -s "$OUTSIDE" "$ROOT/evil"
cgi "$LIMITER" QUERY_STRING=app_id=evil
is "$(status) $(body)" '503 {"message":"Service Unavailable"}' "a key whose directory is a link: 503 JSON"
like "$ERR" "^access-limiter: 503 Service Unavailable: open\\($ROOT/evil\\): Not a directory$" "the log names the link"
"$LIMITER" --gc >/dev/null 2>&1
is "$(find "$OUTSIDE" -mindepth 1 | sort | tr '\n' ' ')" "$OUTSIDE/1000000000-0 " "nothing was created or removed outside ACCESS_ROOT"
ok "$([ -L "$ROOT/evil" ]; echo $?)" "--gc leaves the link itself alone"
mkdir -p "$ROOT/slotlink"
ln -s "$OUTSIDE/1000000000-0" "$ROOT/slotlink/$NOW-0"
cgi "$TESTABLE" QUERY_STRING=app_id=slotlink ACCESS_TEST_NOW=$NOW ACCESS_LIMIT=1
is "$(status)" 429 "a link in place of a slot counts as taken, and is not written through"
ACCESS_TEST_NOW=$((NOW + 10)) "$TESTABLE" --gc >/dev/null
ok "$([ -f "$OUTSIDE/1000000000-0" ] && [ -L "$ROOT/slotlink/$NOW-0" ]; echo $?)" "collection leaves a link named like a slot, and its target, alone"

# A node whose clock lags by up to the tolerance counts in the window the
# others are in, not in its own older one: one real second admits N.
mkdir -p "$ROOT/lag"
cgi "$TESTABLE" QUERY_STRING=app_id=lag ACCESS_TEST_NOW=$((NOW - 1)) ACCESS_LIMIT=3
for _ in 1 2 3; do cgi "$TESTABLE" QUERY_STRING=app_id=lag ACCESS_TEST_NOW=$NOW ACCESS_LIMIT=3; done
answers=""
for _ in 1 2; do
  cgi "$TESTABLE" QUERY_STRING=app_id=lag ACCESS_TEST_NOW=$((NOW - 1)) ACCESS_LIMIT=3
  answers="$answers$(status) "
done
is "$answers" "429 429 " "a node 1 s behind joins the full window of the others: 429"
is "$(find "$ROOT/lag" -name "$NOW-*" | wc -l) $(find "$ROOT/lag" -name "$((NOW - 1))-*" | wc -l)" "3 1" "3 admitted in the current window, 1 in the lagging node's before it opened"

# A window far ahead, left by a node that booted with its clock years ahead.
FAR=2306818927
mkdir -p "$ROOT/ahead"
for slot in 0 1 2; do touch "$ROOT/ahead/$FAR-$slot"; done
cgi "$TESTABLE" QUERY_STRING=app_id=ahead ACCESS_TEST_NOW=$NOW ACCESS_LIMIT=3
is "$(status)" 200 "a full window years ahead does not lock the key out"
is "$(header RateLimit)" '"default";r=2;t=1' "the request counts in this node's window"
for _ in 1 2; do cgi "$TESTABLE" QUERY_STRING=app_id=ahead ACCESS_TEST_NOW=$NOW ACCESS_LIMIT=3; done
cgi "$TESTABLE" QUERY_STRING=app_id=ahead ACCESS_TEST_NOW=$NOW ACCESS_LIMIT=3
is "$(status) $(header Retry-After)" "429 1" "its own limit still holds; Retry-After is 1, not years"
# Within the tolerance, a window ahead is another node's current one: honoured.
mkdir -p "$ROOT/near"
for slot in 0 1 2; do touch "$ROOT/near/$((NOW + 1))-$slot"; done
cgi "$TESTABLE" QUERY_STRING=app_id=near ACCESS_TEST_NOW=$NOW ACCESS_LIMIT=3
is "$(status) $(header Retry-After)" "429 2" "a full window 1 s ahead (the skew tolerance) is honoured: Retry-After 2"
is "$(header RateLimit)" '"default";r=0;t=2' "RateLimit's t agrees with Retry-After"
out=$(ACCESS_TEST_NOW=$NOW "$TESTABLE" --gc 2>"$WORK/gc.err"); rc=$?
is "$rc" 0 "--gc exits 0"
like "$(cat "$WORK/gc.err")" "removed 1 windows up to $((FAR - NOW)) s ahead of this node's clock: a clock is off" "--gc says, once, that a clock is off"
is "$(find "$ROOT/ahead" -name "$FAR-*" | wc -l)" 0 "--gc removed the window from the future"
is "$(find "$ROOT/near" -name "$((NOW + 1))-*" | wc -l)" 3 "--gc kept the window within the tolerance"
ACCESS_TEST_NOW=$NOW "$TESTABLE" --gc >/dev/null 2>"$WORK/gc.err"
is "$(cat "$WORK/gc.err")" "" "a second --gc has nothing to say"

# Requests never collect; --gc does, from a timer (the package installs
# it). A past window stays until then, whoever owns it.
mkdir -p "$ROOT/past" && touch "$ROOT/past/$((NOW - 5))-0"
cgi "$TESTABLE" QUERY_STRING=app_id=past ACCESS_TEST_NOW=$NOW
is "$(status)" 200 "an admission beside a past window answers 200"
ok "$([ -f "$ROOT/past/$((NOW - 5))-0" ] && [ -f "$ROOT/past/$NOW-0" ]; echo $?)" "and leaves the past window for --gc"
rm -rf "$ROOT/past"

# --gc never removes what is not ours, and goes on past what it cannot read.
rm -rf "$ROOT" && mkdir -p "$ROOT"
for key in a b c d e f g h; do mkdir "$ROOT/$key" && touch "$ROOT/$key/1000000000-0"; done
mkdir "$ROOT/lost+found" "$ROOT/.snapshots" "$ROOT/empty-operator-dir+"
touch "$ROOT/README"
if [ "$(id -u)" -eq 0 ] && id www-data >/dev/null 2>&1; then
  chown -R www-data:www-data "$ROOT"
  chmod 0755 "$WORK"
  chown root:root "$ROOT/lost+found" "$ROOT/c" && chmod 0700 "$ROOT/lost+found" "$ROOT/c"
  out=$(runuser -u www-data -- env ACCESS_ROOT="$ROOT" "$LIMITER" --gc 2>"$WORK/gc.err"); rc=$?
  is "$rc" 1 "--gc as www-data, with a key directory of root's: exits 1"
  like "$(cat "$WORK/gc.err")" "could not collect opendir\\($ROOT/c\\): Permission denied" "it names the entry it could not read"
  is "$(find "$ROOT" -mindepth 1 -maxdepth 1 -type d | sort | sed "s|^$ROOT/||" | tr '\n' ' ')" \
    ".snapshots c empty-operator-dir+ lost+found " "every other idle key was collected; what is not ours is left"
  like "$out" 'removed 7 past windows and 7 idle keys' "--gc reports what it did"
else
  skip "needs root and www-data to run --gc as another user; NOT checked: --gc going on past an unreadable key"
  skip "see above"
  skip "see above"
  skip "see above"
fi
ok "$([ -f "$ROOT/README" ] && [ -d "$ROOT/lost+found" ]; echo $?)" "--gc never removes an operator's files or lost+found"

# --gc past slots it may not remove: a key directory of root's that www-data
# can list but not write. Each is named; the other keys are collected.
if [ "$(id -u)" -eq 0 ] && id www-data >/dev/null 2>&1; then
  rm -rf "$ROOT" && mkdir -p "$ROOT/locked" "$ROOT/free"
  touch "$ROOT/locked/1000000000-0" "$ROOT/locked/1000000001-0" "$ROOT/free/1000000000-0"
  chown www-data:www-data "$ROOT" "$ROOT/free" "$ROOT/free/1000000000-0"
  out=$(runuser -u www-data -- env ACCESS_ROOT="$ROOT" "$LIMITER" --gc 2>"$WORK/gc.err"); rc=$?
  is "$rc" 1 "--gc with slots it may not unlink: exit 1"
  is "$(grep -c 'could not collect unlink(' "$WORK/gc.err")" 2 "each slot it could not remove is named"
  ok "$([ ! -e "$ROOT/free" ]; echo $?)" "the other key was collected all the same"
else
  skip "needs root and www-data; NOT checked: --gc going on past slots it may not remove"
  skip "see above"
  skip "see above"
fi

# --gc on a root that does not exist (a typo, an unmounted volume) says so.
err=$(ACCESS_ROOT="$WORK/no-such-root" "$LIMITER" --gc 2>&1 >/dev/null); rc=$?
is "$rc" 1 "--gc on a missing ACCESS_ROOT exits 1"
like "$err" "cannot collect $WORK/no-such-root: open\($WORK/no-such-root\): No such file or directory" "and names it"

done_testing
