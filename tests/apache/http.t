#!/usr/bin/env bash
# The limiter through a real Apache: the private instance of README's main
# command (scripts/run), started here on a port of its own and stopped
# whatever happens.
. "$(dirname "$0")/../lib.sh"

private_apache 18000
LIMITER_URL="$URL/cgi-bin/access-limiter"
HEALTH_URL="$URL/cgi-bin/access-health"

# A past window left from before: the collector that scripts/run starts
# beside Apache removes it (requests never collect).
mkdir -p "$ROOT/left-over" && touch "$ROOT/left-over/1000000000-0"
"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" \
  --access-root "$ROOT" --limit 10 >"$WORK/run.log" 2>&1
ok $? "scripts/run starts a private Apache on port $PORT"
for _ in $(seq 50); do [ -e "$ROOT/left-over" ] || break; sleep 0.1; done
ok "$([ ! -e "$ROOT/left-over" ]; echo $?)" "its collector removed a past window and its idle key"
like "$(cat "$WORK/run.log")" 'past counters are collected every 10 s' "scripts/run says that it collects"
like "$(cat "$WORK/run.log")" "curl -i '$LIMITER_URL\\?app_id=demo'" "scripts/run prints a curl line to try"
like "$(apache2 -f "$STATE/httpd.conf" -t 2>&1)" 'Syntax OK' "the config with apache/access-limiter.conf passes apache2 -t"

http GET "$LIMITER_URL?app_id=demo"
is "$(status)" 200 "GET with a key: 200"
is "$(body)" '{"message":"OK"}' "GET body"
is "$(header Content-Type)" 'application/json; charset=utf-8' "GET content type through Apache"
is "$(header Cache-Control)" 'no-store' "Cache-Control through Apache"
is "$(header RateLimit-Policy)" '"default";q=10;w=1' "SetEnv ACCESS_LIMIT reaches the CGI"
like "$(header RateLimit)" '^"default";r=9;t=1$' "RateLimit through Apache"
ok "$([ -d "$ROOT/demo" ]; echo $?)" "SetEnv ACCESS_ROOT reaches the CGI"

http GET "$LIMITER_URL"
is "$(status) $(body)" '401 {"message":"Unauthorized","detail":"no app_id was given: the request must carry a key"}' "no key: 401 JSON"
http GET "$LIMITER_URL?app_id=../../etc"
is "$(status)" 400 "traversal key: 400"
like "$(body)" '"detail":"app_id must be' "traversal key: the 400 says what a key may be"
http GET "$LIMITER_URL?app_id=%2e%2e%2fescape"
is "$(status)" 400 "encoded traversal key: 400"
ok "$([ ! -e "$WORK/escape" ] && [ ! -e "$ROOT/../escape" ]; echo $?)" "nothing was written outside ACCESS_ROOT"
http HEAD "$LIMITER_URL?app_id=head"
is "$(status)" 200 "HEAD: 200"
is "$(body)" "" "HEAD: no body"
is "$(header RateLimit-Policy)" '"default";q=10;w=1' "HEAD: headers"
http POST "$LIMITER_URL" --data 'app_id=posted'
is "$(status) $(body)" '200 {"message":"OK"}' "POST form body: 200"
started=$(date +%s%N)
http POST "$LIMITER_URL" -H 'Content-Type: application/json' --data '{"app_id":"x"}' -m 10
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
is "$(status)" 415 "POST JSON: 415"
ok "$([ "$elapsed_ms" -lt 2000 ]; echo $?)" "a refused POST is answered at once: its unread body is drained (${elapsed_ms} ms)"
http PUT "$HEALTH_URL" --data 'probe=1' -m 10
is "$(status)" 405 "health refuses a PUT with a body: 405"
http POST "$LIMITER_URL" --data "app_id=big&pad=$(printf 'x%.0s' $(seq 5000))"
is "$(status)" 413 "POST body over LimitRequestBody: 413 from Apache"
is "$(body)" '{"message":"Content Too Large","detail":"a request body may be at most 4096 bytes"}' \
  "in the contract's JSON, not Apache's HTML page"
is "$(header Content-Type)" 'application/json; charset=utf-8' "as JSON"
http PUT "$LIMITER_URL?app_id=put"
is "$(status)" 405 "PUT: 405"
is "$(header Allow)" 'GET, HEAD, POST' "PUT: Allow header"
http GET "$LIMITER_URL?app_id=proxied" -H 'Proxy: http://attacker.invalid:3128'
is "$(status)" 200 "a Proxy request header is harmless (httpoxy)"

# 12 requests at the start of one second on one connection: 10 admitted, 2
# refused. A window boundary inside the burst would make 12 fair, so a burst
# that straddles two seconds (seen on disk) is tried again on a fresh key.
codes=""
for attempt in 1 2 3; do
  burst_args=()
  for _ in $(seq 12); do burst_args+=(-o /dev/null "$LIMITER_URL?app_id=burst$attempt"); done
  wait_for_fresh_second
  codes=$(curl -s -w '%{http_code}\n' "${burst_args[@]}" | tr '\n' ' ')
  windows=$(find "$ROOT/burst$attempt" -type f -printf '%f\n' | cut -d- -f1 | sort -u | wc -l)
  [ "$windows" -eq 1 ] && break
  echo "# burst $attempt straddled two seconds; trying again"
done
if [ "$windows" -eq 1 ]; then
  is "$codes" "200 200 200 200 200 200 200 200 200 200 429 429 " "12 requests in one second: 10 admitted, then 429"
else
  skip "three bursts in a row straddled two seconds (a loaded machine); see the load test below"
fi

# The first 429 of a hot key, whenever it comes, carries the whole contract.
for _ in $(seq 60); do
  http GET "$LIMITER_URL?app_id=refuse"
  [ "$(status)" = 429 ] && break
done
is "$(status)" 429 "a hot key is refused within 60 requests"
is "$(body)" '{"message":"Too Many Requests"}' "429 body through Apache"
like "$(header Retry-After)" '^[1-9][0-9]*$' "429 carries Retry-After in whole seconds, at least 1"
like "$(header RateLimit)" '^"default";r=0;t=[1-9][0-9]*$' "429 carries RateLimit with nothing remaining"

# Concurrent load: 200 requests from 20 connections (ab). Every window that
# saw traffic admits at most 10; the first (which gets the whole opening
# burst) exactly 10; and every 200 is one slot file, every other answer 429.
wait_for_fresh_second
ab -q -n 200 -c 20 "$LIMITER_URL?app_id=load" >"$WORK/ab.log" 2>&1
ok $? "ab completed 200 requests on 20 connections"
completed=$(sed -n 's/^Complete requests: *//p' "$WORK/ab.log")
non_2xx=$(sed -n 's/^Non-2xx responses: *//p' "$WORK/ab.log")
per_window=$(find "$ROOT/load" -type f -printf '%f\n' | cut -d- -f1 | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')
slots=$(find "$ROOT/load" -type f | wc -l)
echo "# ab: $completed completed, ${non_2xx:-0} non-2xx; admitted per window: $per_window"
is "$completed" 200 "all 200 requests were answered"
is "$((200 - ${non_2xx:-0}))" "$slots" "each 200 is exactly one admission on disk"
is "${per_window%% *}" 10 "the first window admitted exactly 10"
over=$(for n in $per_window; do [ "$n" -gt 10 ] && echo "$n"; done)
is "$over" "" "no window admitted more than 10"
like "$(awk '/app_id=load / {print $(NF - 2)}' "$STATE/access.log" | sort -u | tr '\n' ' ')" '^(200 |429 )+$' "the load saw only 200 and 429"

# Health: 200 while ACCESS_ROOT is writable, 503 with the reason when not.
http GET "$HEALTH_URL"
is "$(status) $(body)" '200 {"status":"ok"}' "health: 200 ok"
http GET "$HEALTH_URL?app_id=x"
is "$(status)" 200 "health is never rate-limited"
chmod 0555 "$ROOT"
[ "$(id -u)" -eq 0 ] && chown root:root "$ROOT"
http GET "$HEALTH_URL"
is "$(status)" 503 "health: 503 when ACCESS_ROOT is unwritable"
like "$(body)" '"reason":"ACCESS_ROOT is not writable: Permission denied"' "health: the 503 says why"
http GET "$LIMITER_URL?app_id=newkey"
is "$(status) $(body)" '503 {"message":"Service Unavailable"}' "limiter: 503 JSON when the store fails"
like "$(cat "$STATE/error.log")" 'access-limiter: 503 Service Unavailable: (open|mkdir)\(' "limiter: the error log names the failing call"
like "$(cat "$STATE/error.log")" 'access-health: health check failed: open\(' "health: the error log names the failing call"
chmod 0755 "$ROOT"
[ "$(id -u)" -eq 0 ] && chown www-data:www-data "$ROOT"
http GET "$HEALTH_URL"
is "$(status)" 200 "health: 200 again once writable"

# Metrics, through Apache: the health program's ?metrics (never limited).
admitted_so_far() {
  body | awk '$1 == "access_limiter_decisions_total{policy=\"default\",outcome=\"admitted\"}" {print $2}'
}
http GET "$HEALTH_URL?metrics"
is "$(status) $(header Content-Type)" "200 text/plain; version=0.0.4; charset=utf-8" "access-health?metrics through Apache"
before=$(admitted_so_far)
for i in 1 2 3; do http GET "$LIMITER_URL?app_id=counted$i"; done
http GET "$HEALTH_URL?metrics"
is "$(($(admitted_so_far) - ${before:-0}))" 3 "three admissions later, the admitted counter is 3 higher"

is "$(grep -c 'reset by peer' "$STATE/error.log")" 0 "no answer was cut by a connection reset (unread request bodies)"

collector=$(cat "$STATE/collector.pid")
"$PROJECT_ROOT/scripts/stop" --state-dir "$STATE" >/dev/null
ok "$([ ! -e "$STATE/httpd.pid" ] || ! kill -0 "$(cat "$STATE/httpd.pid")" 2>/dev/null; echo $?)" "scripts/stop ends the instance"
ok "$(! kill -0 "$collector" 2>/dev/null; echo $?)" "and its collector"

done_testing
