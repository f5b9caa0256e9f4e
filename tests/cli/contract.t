#!/usr/bin/env bash
# The seed's contract, through the shipped static binary run from a shell.
. "$(dirname "$0")/../lib.sh"

ROOT="$WORK/access"
mkdir -p "$ROOT"
export ACCESS_ROOT="$ROOT"

# Shipped as one static executable.
if [ "${ACCESS_STATIC:-ON}" = ON ]; then
  like "$(file -b "$LIMITER")" 'statically linked' "access-limiter is statically linked"
  like "$(file -b "$HEALTH")" 'statically linked' "access-health is statically linked"
else
  skip "this build is not static (ACCESS_STATIC=OFF, as sanitizer builds are)"
  skip "this build is not static (ACCESS_STATIC=OFF, as sanitizer builds are)"
fi

# Admitted: 200 with the RateLimit fields.
cgi "$LIMITER" QUERY_STRING='app_id=demo' ACCESS_LIMIT=5
is "$(status)" 200 "admitted request answers 200"
is "$(body)" '{"message":"OK"}' "admitted body is the seed's message"
is "$(header Content-Type)" 'application/json; charset=utf-8' "JSON content type"
is "$(header Cache-Control)" 'no-store' "responses are not cached"
is "$(header RateLimit-Policy)" '"default";q=5;w=1' "RateLimit-Policy names the quota and window"
like "$(header RateLimit)" '^"default";r=4;t=1$' "RateLimit counts down the remaining quota"
is "$(header Retry-After)" "" "an admission carries no Retry-After"
is "$RC" 0 "exit status 0"
is "$ERR" "" "nothing logged for an admitted request"

# No key: 401.
cgi "$LIMITER" QUERY_STRING=''
is "$(status)" 401 "no key answers 401"
is "$(body)" '{"message":"Unauthorized","detail":"no app_id was given: the request must carry a key"}' "401 body names what is missing"
cgi "$LIMITER" QUERY_STRING='app_id='
is "$(status)" 401 "an empty key answers 401"
is "$(header RateLimit)" "" "no RateLimit fields without a key"

# Over the limit: 429 with Retry-After; counted in one pinned second.
for _ in 1 2 3; do cgi "$TESTABLE" QUERY_STRING='app_id=pinned' ACCESS_LIMIT=3 ACCESS_TEST_NOW=1700000000; done
is "$(status)" 200 "third of three is admitted"
like "$(header RateLimit)" 'r=0;' "the last admission leaves 0 remaining"
cgi "$TESTABLE" QUERY_STRING='app_id=pinned' ACCESS_LIMIT=3 ACCESS_TEST_NOW=1700000000
is "$(status)" 429 "the fourth in the same second answers 429"
is "$(body)" '{"message":"Too Many Requests"}' "429 body"
is "$(header Retry-After)" 1 "Retry-After is the whole seconds to the next window"
is "$(header RateLimit)" '"default";r=0;t=1' "RateLimit on a 429"
is "$(find "$ROOT/pinned" -type f | wc -l)" 3 "a rejected request writes no file"
cgi "$TESTABLE" QUERY_STRING='app_id=pinned' ACCESS_LIMIT=3 ACCESS_TEST_NOW=1700000001
is "$(status)" 200 "the next second admits again"

# The same with the wall clock and the production binary.
wait_for_fresh_second
cgi "$LIMITER" QUERY_STRING='app_id=wall' ACCESS_LIMIT=1
first=$(status)
cgi "$LIMITER" QUERY_STRING='app_id=wall' ACCESS_LIMIT=1
is "$first $(status)" "200 429" "wall clock: limit 1 admits one, then 429"

# HEAD: headers only.
cgi "$LIMITER" REQUEST_METHOD=HEAD QUERY_STRING='app_id=head'
is "$(status)" 200 "HEAD answers 200"
is "$(body)" "" "HEAD has no body"
is "$(header Content-Type)" 'application/json; charset=utf-8' "HEAD keeps the headers"

# POST: the key from a form body.
BODY='app_id=posted'
cgi "$LIMITER" REQUEST_METHOD=POST CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH=13
BODY=''
is "$(status)" 200 "POST form body with the key answers 200"
ok "$([ -d "$ROOT/posted" ]; echo $?)" "the POSTed key is counted under its own directory"

# Another key name and an invalid key.
cgi "$LIMITER" QUERY_STRING='api_key=other' ACCESS_KEY=api_key
is "$(status)" 200 "ACCESS_KEY renames the parameter"
cgi "$LIMITER" QUERY_STRING='app_id=../../etc'
is "$(status)" 400 "a traversal key answers 400"
like "$(body)" '"detail":"app_id must be 1 to 128 characters' "the 400 says what a key may be"

# Configuration errors: 500 with a generic body and a precise log line.
cgi "$LIMITER" QUERY_STRING='app_id=demo' ACCESS_LIMIT=ten
is "$(status)" 500 "a bad ACCESS_LIMIT answers 500"
is "$(body)" '{"message":"Internal Server Error"}' "the 500 body hides the detail"
like "$ERR" '^access-limiter: 500 Internal Server Error: ACCESS_LIMIT="ten": must be a whole number' "the log line names the variable and the rule"
cgi "$LIMITER" QUERY_STRING='app_id=demo' ACCESS_ROOT=relative
is "$(status)" 500 "a relative ACCESS_ROOT answers 500"
cgi "$LIMITER" QUERY_STRING='app_id=demo' ACCESS_ROOT="/tmp/$(printf 'a%.0s' $(seq 256))/access"
is "$(status)" 500 "an ACCESS_ROOT component over 255 bytes answers 500, not a 503 per request"
like "$ERR" 'ACCESS_ROOT=.*each component at most 255' "the log line gives the rule"
err=$(ACCESS_ROOT=/ "$LIMITER" --check-config 2>&1 >/dev/null); rc=$?
is "$rc $err" '1 access-limiter: ACCESS_ROOT="/": must be a directory of its own, not /' "ACCESS_ROOT=/ is refused (--gc removes empty key-named directories)"
err=$(ACCESS_ROOT=$'/tmp/a\nb' "$LIMITER" --check-config 2>&1 >/dev/null); rc=$?
is "$rc" 1 "--check-config refuses an ACCESS_ROOT with a newline"
like "$err" 'no control characters' "and says why"

# Operator commands.
out=$("$LIMITER" --help); rc=$?
is "$rc" 0 "--help exits 0"
like "$out" '^Usage: access-limiter' "--help prints the usage"
like "$("$LIMITER" --version)" '^access-limiter [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"
out=$(ACCESS_LIMIT=7 "$LIMITER" --check-config); rc=$?
is "$rc" 0 "--check-config exits 0 on a good configuration"
like "$out" 'ACCESS_LIMIT=7' "--check-config prints the effective values"
like "$out" "ACCESS_ROOT=$ROOT" "--check-config prints ACCESS_ROOT"
err=$(ACCESS_LIMIT=0 "$LIMITER" --check-config 2>&1 >/dev/null); rc=$?
is "$rc" 1 "--check-config exits 1 on a bad configuration"
like "$err" 'ACCESS_LIMIT="0"' "--check-config names the bad variable"
out=$(env -u ACCESS_NODE_CACHE "$LIMITER" --check-config)
like "$out" "ACCESS_NODE_CACHE=/dev/shm/access-limiter-cache.$(id -u)" "the node cache is on by default, one file per user on /dev/shm"
is "$(ACCESS_NODE_CACHE=off "$LIMITER" --check-config | grep NODE_CACHE)" "ACCESS_NODE_CACHE=off" "ACCESS_NODE_CACHE=off turns it off"
err=$(ACCESS_NODE_CACHE=relative/file "$LIMITER" --check-config 2>&1 >/dev/null); rc=$?
like "$rc $err" '^1 access-limiter: ACCESS_NODE_CACHE="relative/file": must be an absolute path' "a relative ACCESS_NODE_CACHE is refused"
touch "$WORK/open-cache" && chmod 0666 "$WORK/open-cache"
err=$(ACCESS_NODE_CACHE="$WORK/open-cache" "$LIMITER" --check-config 2>&1 >/dev/null); rc=$?
is "$rc" 0 "an unusable node cache is not a bad configuration: decisions go on without it"
is "$err" "access-limiter: ACCESS_NODE_CACHE unusable, deciding without it (slower): $WORK/open-cache is writable by others than its owner" "--check-config says why it is unusable"
cgi "$LIMITER" QUERY_STRING=app_id=uncached ACCESS_NODE_CACHE="$WORK/open-cache"
is "$(status) $ERR" "200 " "a request with an unusable node cache is decided without it, silently"
"$LIMITER" --bogus >/dev/null 2>&1; rc=$?
is "$rc" 2 "an unknown option exits 2"

# Under a web server (GATEWAY_INTERFACE set), arguments are a query's words
# (RFC 3875 4.4), never commands: the request is answered.
mkdir -p "$ROOT/webidle" && touch "$ROOT/webidle/1000000000-0"
for args in --gc --help --version --check-config app_id '--gc --help'; do
  # shellcheck disable=SC2086 # the words are the arguments
  env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET QUERY_STRING="$args" "$LIMITER" $args >"$WORK/out" 2>"$WORK/err"
  OUT=$(tr -d '\r' <"$WORK/out")
  is "$(status) $(body)" '401 {"message":"Unauthorized","detail":"no app_id was given: the request must carry a key"}' "CGI run with arguments '$args': 401 JSON, no command"
done
ok "$([ -e "$ROOT/webidle/1000000000-0" ]; echo $?)" "a CGI run with --gc collected nothing"
env GATEWAY_INTERFACE=CGI/1.1 QUERY_STRING=app_id=webkey "$LIMITER" --gc >"$WORK/out" 2>&1
OUT=$(tr -d '\r' <"$WORK/out")
is "$(status)" 200 "a CGI run with a key and an argument answers the request"
env GATEWAY_INTERFACE=CGI/1.1 "$HEALTH" --help >"$WORK/out" 2>&1
OUT=$(tr -d '\r' <"$WORK/out")
is "$(status)" 200 "access-health under a web server ignores its arguments too"
like "$("$HEALTH" --help)" '^Usage: access-health' "access-health --help"
like "$("$LIMITER" --help)" 'commands below run only from a shell' "--help says commands are for the shell"

# --gc removes past windows of idle keys and the keys left empty.
mkdir -p "$ROOT/idle" && touch "$ROOT/idle/1000000000-0" "$ROOT/idle/1000000000-1"
out=$("$LIMITER" --gc); rc=$?
is "$rc" 0 "--gc exits 0"
like "$out" 'removed [1-9][0-9]* past windows' "--gc reports what it removed"
ok "$([ ! -e "$ROOT/idle" ]; echo $?)" "--gc removed the idle key"

done_testing
