#!/usr/bin/env bash
# The guard from a shell, set up as Apache's Action handler would run it
# (REDIRECT_HANDLER, PATH_INFO, PATH_TRANSLATED, REDIRECT_-prefixed settings):
# a rejected request never starts the application; an admitted one becomes
# it, with the environment of a direct run and its body intact; nothing
# outside ACCESS_APP_ROOT runs; and without REDIRECT_HANDLER nothing runs.
. "$(dirname "$0")/../lib.sh"

APP="$WORK/app"
RUNS="$WORK/runs"
mkdir -p "$APP/sub" "$WORK/elsewhere" "$WORK/access"
: >"$RUNS"
cat >"$APP/app.cgi" <<SCRIPT
#!/bin/sh
echo run >>"$RUNS"
printf 'Status: 201 Created\\r\\nContent-Type: text/plain\\r\\nX-App: yes\\r\\n\\r\\n'
echo "SCRIPT_NAME=\$SCRIPT_NAME"
echo "SCRIPT_FILENAME=\$SCRIPT_FILENAME"
echo "PATH_INFO=\${PATH_INFO-unset}"
echo "PATH_TRANSLATED=\${PATH_TRANSLATED-unset}"
echo "QUERY_STRING=\$QUERY_STRING"
echo "APP_ENV=\${APP_ENV-unset}"
echo "REDIRECT_STATUS=\${REDIRECT_STATUS-unset}"
echo "REDIRECT_URL=\${REDIRECT_URL-unset}"
echo "PWD=\$(pwd)"
echo "BODY=\$(cat | sha256sum | cut -c1-16)"
SCRIPT
chmod 0755 "$APP/app.cgi"
cp "$APP/app.cgi" "$WORK/elsewhere/evil.cgi"
ln -s "$WORK/elsewhere/evil.cgi" "$APP/link.cgi"
printf '#!/bin/sh\necho run >>"%s"\n' "$RUNS" >"$APP/plain.txt"
chmod 0644 "$APP/plain.txt"
runs() { wc -l <"$RUNS" | tr -d ' '; }
# The status an application answered with: after the limiter's RateLimit
# lines, its own Status header (Apache merges the two sets of headers).
app_status() { header Status | cut -d' ' -f1; }

# guarded URL-PATH [VAR=value ...] : a handler run for URL-PATH under /api,
# which Apache maps to $APP, on a clock pinned to one second (a slow build
# must not see the window change between requests). GUARD_RUN=hung_cgi
# bounds a run only the watchdog can end.
guarded() {
  local path=$1
  shift
  "${GUARD_RUN:-cgi}" "$TESTABLE" ACCESS_TEST_NOW=1700000000 GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REDIRECT_HANDLER=access-limited \
    REDIRECT_STATUS=200 REDIRECT_URL="/api$path" SCRIPT_NAME=/cgi-bin/access-limiter \
    SCRIPT_FILENAME="$LIMITER" PATH_INFO="/api$path" PATH_TRANSLATED="$APP$path" \
    DOCUMENT_ROOT=/var/www/html ACCESS_ROOT="$WORK/access" REDIRECT_ACCESS_APP_ROOT="$APP" \
    REDIRECT_APP_ENV=production "$@"
}

guarded /app.cgi QUERY_STRING='app_id=k&x=1' REDIRECT_ACCESS_LIMIT=2
is "$(app_status)" 201 "admitted: the application's own status"
is "$(header X-App)" yes "the application's own headers"
is "$(header RateLimit-Policy)" '"default";q=2;w=1' "RateLimit fields added, with the location's limit"
like "$(header RateLimit)" '^"default";r=1;t=1$' "RateLimit counts down"
like "$(body)" "SCRIPT_NAME=/api/app.cgi" "SCRIPT_NAME is the script's URL"
like "$(body)" "SCRIPT_FILENAME=$APP/app.cgi" "SCRIPT_FILENAME is the script"
like "$(body)" "PATH_INFO=unset" "no PATH_INFO without an extra path, as in a direct run"
like "$(body)" "QUERY_STRING=app_id=k&x=1" "QUERY_STRING unchanged"
like "$(body)" "APP_ENV=production" "the protected location's variables arrive unprefixed"
like "$(body)" "REDIRECT_URL=unset" "the handler's redirect records are gone"
like "$(body)" "REDIRECT_STATUS=unset" "no REDIRECT_STATUS for a CGI script run by itself"
like "$(body)" "PWD=$APP\$" "it runs in its own directory"
is "$(runs)" 1 "the application ran once"

guarded /app.cgi QUERY_STRING='app_id=k' REDIRECT_ACCESS_LIMIT=2
guarded /app.cgi QUERY_STRING='app_id=k' REDIRECT_ACCESS_LIMIT=2
is "$(status) $(header Retry-After)" "429 1" "over the location's limit: 429 from the limiter"
is "$(body)" '{"message":"Too Many Requests"}' "the limiter's JSON"
is "$(runs)" 2 "a rejected request never starts the application"

guarded /app.cgi/extra/x QUERY_STRING='app_id=pi'
like "$(body)" "SCRIPT_NAME=/api/app.cgi" "with path info: SCRIPT_NAME is still the script"
like "$(body)" "PATH_INFO=/extra/x" "the extra path is PATH_INFO"
like "$(body)" "PATH_TRANSLATED=/var/www/html/extra/x" "PATH_TRANSLATED as Apache would map it"

# An admitted request whose application cannot be started: the exec fails.
ran_before=$(runs)
guarded /app.cgi QUERY_STRING='app_id=noexec' REDIRECT_ACCESS_APP_INTERPRETER=/nonexistent/php-cgi
is "$(header Status) $(body)" '500 Internal Server Error {"message":"Internal Server Error"}' "an interpreter that cannot run: the limiter's 500 JSON"
like "$ERR" "500 Internal Server Error: could not run $APP/app.cgi: No such file or directory" "and a log line naming the script and the cause"
is "$(runs)" "$ran_before" "nothing ran"

guarded /app.cgi QUERY_STRING='app_id=k2' ACCESS_APP_INTERPRETER=/bin/sh
like "$(body)" "REDIRECT_STATUS=200" "run by an interpreter: REDIRECT_STATUS kept (php-cgi's force_redirect)"

# A hung store: 503 from the limiter; failing open, the application answers,
# at the timeout, uncounted.
before=$(runs)
GUARD_RUN=hung_cgi guarded /app.cgi QUERY_STRING='app_id=hung' ACCESS_TEST_FAULT=hang-store ACCESS_STORE_TIMEOUT=0.3
watchdog_ended_it "a hung store"
is "$(status) $(runs)" "503 $before" "a hung store: 503 JSON, the application not started"
started=$(date +%s%N)
# The application runs in a child of the limiter's process and may write
# after that has exited: read the answer to its end, as a web server does.
env ACCESS_TEST_NOW=1700000000 GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REDIRECT_HANDLER=access-limited \
  REDIRECT_STATUS=200 REDIRECT_URL=/api/app.cgi SCRIPT_NAME=/cgi-bin/access-limiter \
  PATH_INFO=/api/app.cgi PATH_TRANSLATED="$APP/app.cgi" ACCESS_ROOT="$WORK/access" \
  REDIRECT_ACCESS_APP_ROOT="$APP" QUERY_STRING='app_id=hung' ACCESS_TEST_FAULT=hang-store \
  ACCESS_STORE_TIMEOUT=0.3 ACCESS_FAIL_OPEN=1 timeout -k 2 "$HANG_BOUND" "$TESTABLE" </dev/null 2>/dev/null |
  timeout -k 2 "$HANG_BOUND" cat >"$WORK/out"
RC=${PIPESTATUS[0]}
OUT=$(tr -d '\r' <"$WORK/out")
watchdog_ended_it "failing open on a hung store"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
is "$(app_status) $(runs)" "201 $((before + 1))" "failing open on a hung store: the application answers"
ok "$([ "$elapsed_ms" -lt 3000 ]; echo $?)" "at the timeout, not after the store (${elapsed_ms} ms)"
is "$(header RateLimit-Policy)" "" "and without RateLimit fields: nothing was counted"

# The body: handed over byte for byte, also when the limiter read it.
head -c 200000 /dev/urandom >"$WORK/blob"
BODY=$(base64 -w0 <"$WORK/blob")
want=$(printf '%s' "$BODY" | sha256sum | cut -c1-16)
guarded /app.cgi REQUEST_METHOD=PUT QUERY_STRING='app_id=body' CONTENT_TYPE=application/octet-stream CONTENT_LENGTH=${#BODY}
BODY=''
is "$(app_status)" 201 "a PUT of 200 KB with the key in the query: any method is the application's"
like "$(body)" "BODY=$want" "its body arrives unread, byte for byte"
BODY='x=1&app_id=formkey&y=%C3%A9'
want=$(printf '%s' "$BODY" | sha256sum | cut -c1-16)
guarded /app.cgi REQUEST_METHOD=POST CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH=${#BODY}
is "$(app_status)" 201 "the key inside a form body: admitted"
like "$(body)" "BODY=$want" "the form body the limiter read arrives byte for byte"
ok "$([ -d "$WORK/access/formkey" ]; echo $?)" "counted under the key from the body"
guarded /app.cgi REQUEST_METHOD=POST CONTENT_TYPE=application/x-www-form-urlencoded HTTP_TRANSFER_ENCODING=chunked
like "$(body)" "BODY=$want" "a chunked form body the limiter read arrives byte for byte"
BODY=''

# Nothing outside ACCESS_APP_ROOT runs; a refusal is JSON and a log line.
before=$(runs)
guarded /link.cgi QUERY_STRING='app_id=k3'
is "$(status)" 403 "a link out of ACCESS_APP_ROOT: 403"
like "$ERR" "refused to run an application: .*link.cgi resolves to .*elsewhere/evil.cgi, outside ACCESS_APP_ROOT" "logged with the cause"
guarded /../elsewhere/evil.cgi QUERY_STRING='app_id=k3'
is "$(status)" 403 "a .. escape: 403"
guarded /nope.cgi QUERY_STRING='app_id=k3'
is "$(status) $(body)" '404 {"message":"Not Found","detail":"no such script: /api/nope.cgi"}' "a missing script: 404 JSON"
guarded /sub QUERY_STRING='app_id=k3'
is "$(status)" 404 "a directory: 404"
guarded /plain.txt QUERY_STRING='app_id=k3'
is "$(status)" 403 "not executable, no interpreter: 403"
guarded /app.cgi QUERY_STRING='app_id=k3' REDIRECT_ACCESS_APP_ROOT="$WORK/elsewhere"
is "$(status)" 403 "a script outside the location's ACCESS_APP_ROOT: 403"
cgi "$LIMITER" GATEWAY_INTERFACE=CGI/1.1 REDIRECT_HANDLER=access-limited PATH_INFO=/api/app.cgi \
  PATH_TRANSLATED="$APP/app.cgi" QUERY_STRING='app_id=k3' ACCESS_ROOT="$WORK/access"
is "$(status)" 500 "a handler run without ACCESS_APP_ROOT: 500"
like "$ERR" 'ACCESS_APP_ROOT is not set' "the log says what is missing"
# Without REDIRECT_HANDLER (the endpoint, even with an extra path) nothing runs
# and prefixed settings are ignored.
cgi "$LIMITER" GATEWAY_INTERFACE=CGI/1.1 PATH_INFO=/api/app.cgi PATH_TRANSLATED="$APP/app.cgi" \
  ACCESS_APP_ROOT="$APP" REDIRECT_ACCESS_LIMIT=1 QUERY_STRING='app_id=endpoint' ACCESS_ROOT="$WORK/access"
is "$(status) $(body)" '200 {"message":"OK"}' "the endpoint with an extra path answers JSON"
is "$(header RateLimit-Policy)" '"default";q=10;w=1' "REDIRECT_ settings are ignored outside a handler run"
is "$(runs)" "$before" "none of the above ran anything"

# Keys from a header and from the client's address, made safe.
guarded /app.cgi ACCESS_KEY=header:X-Api-Key HTTP_X_API_KEY='sk+a/b==' REDIRECT_ACCESS_LIMIT=1
is "$(app_status)" 201 "a key from the X-Api-Key header"
ok "$(find "$WORK/access" -mindepth 1 -maxdepth 1 -name 'h~*' | grep -Eq '/h~[0-9a-f]{32}$'; echo $?)" "counted under its hash"
is "$(find "$WORK/access" -name '*sk*' | wc -l)" 0 "the credential itself is nowhere in the store"
guarded /app.cgi ACCESS_KEY=header:X-Api-Key HTTP_X_API_KEY='sk+a/b==' REDIRECT_ACCESS_LIMIT=1
is "$(status)" 429 "the same header value is the same key"
guarded /app.cgi ACCESS_KEY=header:X-Api-Key
is "$(status)" 401 "no header: 401"
guarded /app.cgi ACCESS_KEY=remote-addr REMOTE_ADDR=2001:db8::1
is "$(app_status)" 201 "a key from an IPv6 client address"
ok "$([ -d "$WORK/access/2001~3Adb8~3A~3A1" ]; echo $?)" "counted under the encoded address"
guarded /app.cgi ACCESS_KEY=remote-addr
is "$(status)" 401 "no REMOTE_ADDR: 401"

# An nph- script writes its own status line, which cannot follow the
# limiter's header lines: refused, before anything is counted.
cp "$APP/app.cgi" "$APP/nph-app.cgi"
before=$(runs)
guarded /nph-app.cgi QUERY_STRING='app_id=nph'
is "$(status)" 403 "an nph- script: 403"
like "$(body)" '"detail":"nph- scripts cannot run behind the limiter: /api/nph-app.cgi"' "the JSON detail says why"
like "$ERR" 'nph-app.cgi is an nph- script' "and the log names the script"
is "$(runs)" "$before" "the script did not run"
ok "$([ ! -e "$WORK/access/nph" ]; echo $?)" "and the key was not counted"

done_testing
