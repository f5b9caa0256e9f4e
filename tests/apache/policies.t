#!/usr/bin/env bash
# The operator's policies through a real Apache: a CGI application guarded in
# four locations (plain, per minute, known keys only, dry run), keys
# registered from a shell with --key while Apache runs, and changes taking
# effect without a reload. The application records every run, so the tests
# count what really ran. Apache is a private instance (scripts/run), stopped
# whatever happens.
. "$(dirname "$0")/../lib.sh"

private_apache 23000
APP="$WORK/app"
mkdir -p "$APP" "$ROOT"
RUNS="$WORK/runs"
: >"$RUNS"
chmod 0666 "$RUNS"
cat >"$APP/app.cgi" <<SCRIPT
#!/bin/sh
echo "run" >>"$RUNS"
printf 'Status: 201 Created\\r\\nContent-Type: text/plain\\r\\n\\r\\nfrom the application\\n'
SCRIPT
chmod 0755 "$APP/app.cgi"
chmod -R a+rX "$APP"

# One application, four ways to guard it.
{
  for location in metered minute members shadow; do
    echo "Alias /$location \"$APP\""
  done
  echo "<Directory \"$APP\">"
  echo "  Require all granted"
  echo "  SetHandler access-limited"
  echo "  SetEnv ACCESS_APP_ROOT \"$APP\""
  echo "  SetEnv ACCESS_LIMIT 3"
  echo "</Directory>"
  echo "<Location /minute>"
  echo "  SetEnv ACCESS_WINDOW 60"
  echo "  SetEnv ACCESS_LIMIT 2"
  echo "</Location>"
  echo "<Location /members>"
  echo "  SetEnv ACCESS_KNOWN_KEYS_ONLY 1"
  echo "</Location>"
  echo "<Location /shadow>"
  echo "  SetEnv ACCESS_DRY_RUN 1"
  echo "  SetEnv ACCESS_LIMIT 2"
  echo "</Location>"
} >"$WORK/policies.conf"
"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" \
  --access-root "$ROOT" --include "$WORK/policies.conf" >"$WORK/run.log" 2>&1
ok $? "scripts/run starts a private Apache with four guarded locations" || cat "$WORK/run.log"

# key ARGS... : access-limiter --key, run as the store's owner (www-data
# when this runs as root, as scripts/run hands ACCESS_ROOT to it).
key() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u www-data -- env ACCESS_ROOT="$ROOT" "$LIMITER" --key "$@"
  else
    ACCESS_ROOT="$ROOT" "$LIMITER" --key "$@"
  fi
}
runs() { wc -l <"$RUNS"; }
# codes PATH KEY COUNT : the status codes of COUNT requests, in one second.
codes() {
  local path=$1 app_id=$2 count=$3 i all=""
  wait_for_fresh_second
  for ((i = 0; i < count; i++)); do
    http GET "$URL/$path/app.cgi?app_id=$app_id"
    all="$all$(status) "
  done
  echo "$all"
}

key add gold --limit 5 >/dev/null && key add vip --unlimited >/dev/null && key add mallory --blocked >/dev/null &&
  key add member >/dev/null
ok $? "keys registered from a shell while Apache runs (--key add, as the store's owner)"

before=$(runs)
is "$(codes metered gold 7)" "201 201 201 201 201 429 429 " "a key's own limit (5) over the location's (3)"
is "$(($(runs) - before))" 5 "the application ran five times"
http GET "$URL/metered/app.cgi?app_id=gold"
is "$(header RateLimit-Policy)" '"default";q=5;w=1' "RateLimit-Policy gives the key's limit"
is "$(codes metered anyone 4)" "201 201 201 429 " "an unregistered key gets the location's limit (3)"

before=$(runs)
is "$(codes metered vip 12 | tr ' ' '\n' | sort -u | tr '\n' ' ')" " 201 " "an unlimited key: 12 of 12 reach the application"
is "$(($(runs) - before))" 12 "and it ran 12 times"
ok "$([ -z "$(find "$ROOT/vip" -type f 2>/dev/null)" ]; echo $?)" "an unlimited key is never counted"

before=$(runs)
http GET "$URL/metered/app.cgi?app_id=mallory"
is "$(status) $(body)" '403 {"message":"Forbidden","detail":"key mallory is blocked"}' "a blocked key: 403 JSON"
is "$(runs)" "$before" "the application never ran for it"

http GET "$URL/members/app.cgi?app_id=stranger"
is "$(status) $(body)" '401 {"message":"Unauthorized","detail":"unknown key: stranger is not registered (ACCESS_KNOWN_KEYS_ONLY=1)"}' \
  "known keys only: an unregistered key gets 401 JSON"
ok "$([ ! -e "$ROOT/stranger" ]; echo $?)" "and leaves nothing in the store"
is "$(codes members member 4)" "201 201 201 429 " "a registered key is admitted and counted"

# A change from a shell, with no reload: it holds from the next second.
key add member --limit 1 >/dev/null
sleep 1
is "$(codes members member 3)" "201 429 429 " "a changed limit holds without a reload"
key remove member >/dev/null
sleep 1
http GET "$URL/members/app.cgi?app_id=member"
is "$(status)" 401 "a removed key is unknown without a reload"

# Dry run: everything reaches the application; a header says what
# enforcing would have answered.
before=$(runs)
wait_for_fresh_second
dry=""
all=""
for _ in 1 2 3 4; do
  http GET "$URL/shadow/app.cgi?app_id=shadowed"
  all="$all$(status) "
  dry="$dry$(header Access-Limiter-Dry-Run) "
done
is "$all" "201 201 201 201 " "ACCESS_DRY_RUN=1: four of four reach the application at limit 2"
is "$dry" "200 200 429 429 " "Access-Limiter-Dry-Run says which enforcing would have refused"
is "$(($(runs) - before))" 4 "the application ran four times"
like "$(cat "$STATE/error.log")" 'key shadowed reached its limit of 2 per 1 s \(window [0-9]+\); dry run: requests past it are admitted' \
  "the error log says once that the key reached its limit"
is "$(grep -c 'key shadowed reached its limit' "$STATE/error.log")" 1 "once, not once per request"

# Per minute (not across a minute's end: the burst would span two windows).
while [ $(($(date +%s) % 60)) -ge 58 ]; do sleep 0.5; done
is "$(codes minute perminute 3)" "201 201 429 " "ACCESS_WINDOW=60, limit 2: the third request in the minute is refused"
http GET "$URL/minute/app.cgi?app_id=perminute"
is "$(header RateLimit-Policy)" '"default";q=2;w=60' "RateLimit-Policy gives w=60"
retry=$(header Retry-After)
ok "$([ "$retry" -ge 1 ] && [ "$retry" -le 61 ]; echo $?)" "Retry-After counts to the end of the minute ($retry s)"
like "$(find "$ROOT/perminute" -type f -printf '%f\n' | head -n 1)" '^[0-9]+\+60-[01]$' "a minute's slots are named START+60-SLOT"

# The operator's view.
if [ "$(id -u)" -eq 0 ]; then
  out=$(runuser -u www-data -- env ACCESS_ROOT="$ROOT" ACCESS_LIMIT=3 "$LIMITER" --status)
else
  out=$(ACCESS_ROOT="$ROOT" ACCESS_LIMIT=3 "$LIMITER" --status)
fi
like "$(grep '^gold ' <<<"$out")" '^gold +[0-9]+ +5 +limit=5' "--status shows a key's own limit"
like "$(grep '^vip ' <<<"$out")" '^vip +- +- +unlimited$' "--status shows an unlimited key"

done_testing
