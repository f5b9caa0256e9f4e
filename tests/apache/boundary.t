#!/usr/bin/env bash
# The limiter's boundary through a real Apache: a query's words that Apache
# passes as arguments never run operator commands, every URL that reaches
# the program runs it with the configured settings, and chunked request
# bodies are read whole. The instance (scripts/run) runs with limit 7, not
# the embedded default of 10, so an unconfigured run shows in RateLimit-Policy.
. "$(dirname "$0")/../lib.sh"

private_apache 19000
LIMITER_URL="$URL/cgi-bin/access-limiter"
DEFAULT_ROOT=/tmp/access  # the embedded default ACCESS_ROOT

"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" \
  --access-root "$ROOT" --limit 7 >"$WORK/run.log" 2>&1
ok $? "scripts/run starts a private Apache with ACCESS_LIMIT=7"
[ "$(id -u)" -eq 0 ] && chown www-data:www-data "$ROOT"

# RFC 3875 4.4: for a query without "=", Apache passes its words as
# arguments. Under a web server the program ignores them and answers JSON.
# scripts/run's collector would remove that past window itself: stopped.
kill -- "-$(cat "$STATE/collector.pid")" 2>/dev/null
mkdir -p "$ROOT/idle" && touch "$ROOT/idle/1000000000-0"
[ "$(id -u)" -eq 0 ] && chown -R www-data:www-data "$ROOT"
for query in --gc --help --version --check-config app_id anything '--gc+--help' '-h'; do
  http GET "$LIMITER_URL?$query"
  is "$(status) $(body)" '401 {"message":"Unauthorized","detail":"no app_id was given: the request must carry a key"}' "?$query: 401 JSON, no operator command"
  is "$(header Content-Type)" 'application/json; charset=utf-8' "?$query: a JSON answer, not help text"
done
ok "$([ -e "$ROOT/idle/1000000000-0" ]; echo $?)" "?--gc from the web collected nothing"
http GET "$LIMITER_URL?app_id=argv-key&--gc"
is "$(status)" 200 "a key beside an option-like word is still served"

# Every URL variant that reaches the program runs it configured: limit 7,
# the configured ACCESS_ROOT, nothing under the embedded default root.
n=0
while IFS= read -r path; do
  n=$((n + 1))
  key="variant$$-$n"
  http GET "$URL$path?app_id=$key" --path-as-is
  case $(status) in
    200 | 429)
      is "$(header RateLimit-Policy)" '"default";q=7;w=1' "$path: runs with the configured limit"
      ok "$([ -d "$ROOT/$key" ]; echo $?)" "$path: counts in the configured ACCESS_ROOT"
      ;;
    *)
      like "$(status)" '^4[0-9][0-9]$' "$path: refused ($(status))"
      ok "$([ ! -e "$ROOT/$key" ]; echo $?)" "$path: refused, nothing counted"
      ;;
  esac
  ok "$([ ! -e "$DEFAULT_ROOT/$key" ]; echo $?)" "$path: nothing under the embedded default root"
done <<'PATHS'
/cgi-bin/access-limiter
/cgi-bin/access-limiter/x
/cgi-bin/access-limiter/
/cgi-bin/access-limiter/x/y.php
//cgi-bin/access-limiter
/cgi-bin//access-limiter
/cgi-bin/./access-limiter
/cgi-bin/x/../access-limiter
/cgi-bin/access-limite%72
/cgi-bin/access-limiter%2Fx
/cgi-bin/access-limiter%2f
/CGI-BIN/access-limiter
/cgi-bin/Access-Limiter
/cgi-bin/access-limiter;x
/cgi-bin/access-limiter.
PATHS
http GET "$URL/cgi-bin/access-health/x"
is "$(status) $(body)" '200 {"status":"ok"}' "the health check with an extra path probes the configured root"

# Chunked bodies: Apache passes no CONTENT_LENGTH. Each is read to its end,
# so the answer is never cut, and a key inside one is found.
cut=0
for i in $(seq 13); do
  curl -s -o "$WORK/chunked.out" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
    --data-binary "app_id=chunked$i" "$LIMITER_URL" >"$WORK/chunked.code"
  rc=$?
  if [ "$rc" -ne 0 ] || [ "$(cat "$WORK/chunked.code")" != 200 ] ||
    [ "$(cat "$WORK/chunked.out")" != '{"message":"OK"}' ]; then
    cut=$((cut + 1))
    echo "# try $i: curl exit $rc, status $(cat "$WORK/chunked.code"), body $(cat "$WORK/chunked.out")"
  fi
done
is "$cut" 0 "13 chunked form posts with the key: all 200, whole answers"
ok "$([ -d "$ROOT/chunked13" ]; echo $?)" "the key in a chunked body is counted"
http POST "$LIMITER_URL?app_id=chunkedjson" -H 'Transfer-Encoding: chunked' \
  -H 'Content-Type: application/json' --data-binary "{\"pad\":\"$(head -c 3000 /dev/zero | tr '\0' x)\"}"
is "$RC $(status)" "0 415" "a chunked JSON body: whole 415 JSON answer"
like "$(body)" '"detail":"a POST body must be' "the 415 names the problem"
http POST "$LIMITER_URL" -H 'Transfer-Encoding: chunked' \
  --data-binary "app_id=chunkedbig&pad=$(head -c 5000 /dev/zero | tr '\0' x)"
is "$RC $(status)" "0 413" "a chunked body over 4096 bytes: 413, whole answer"
ok "$([ ! -e "$ROOT/chunkedbig" ]; echo $?)" "an oversized chunked body counts nothing"
is "$(grep -c 'reset by peer' "$STATE/error.log")" 0 "no answer was cut by a connection reset"

done_testing
