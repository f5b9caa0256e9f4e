#!/usr/bin/env bash
# access-limiter --fastcgi: the persistent FastCGI authorizer, driven as
# mod_authnz_fcgi drives it (one connection per request, the Authorizer
# role, the request's variables and no body). Its answers, the settings a
# request may and may not set, nothing kept from one request to the next,
# a hung store, a crashed or stuck worker, and the sockets it can serve.
. "$(dirname "$0")/../lib.sh"

ROOT="$WORK/root"
mkdir "$ROOT"
export ACCESS_ROOT="$ROOT"
PORT=$(free_port)
ADDRESS="127.0.0.1:$PORT"

# --- The command line -------------------------------------------------------
"$LIMITER" --help >"$WORK/help"
like "$(cat "$WORK/help")" '--fastcgi \[ADDRESS\] \[--workers N\]' "--help shows --fastcgi"
"$LIMITER" --fastcgi "$ADDRESS" --workers 0 2>"$WORK/err"
is "$? $(cat "$WORK/err")" "2 access-limiter: --workers '0': a number from 1 to 256; see --help" \
  "--workers 0: exit 2, named"
"$LIMITER" --fastcgi "0.0.0.0:$PORT" 2>"$WORK/err"
is "$?" 1 "a non-loopback address: exit 1"
like "$(cat "$WORK/err")" "cannot listen on 0.0.0.0:$PORT: only a loopback address" "and why"
"$LIMITER" --fastcgi </dev/null 2>"$WORK/err"
is "$?" 1 "no ADDRESS and no inherited socket: exit 1"
like "$(cat "$WORK/err")" 'without an ADDRESS serves the listening socket it was started with' "and why"
ACCESS_LIMIT=0 "$LIMITER" --fastcgi "$ADDRESS" 2>"$WORK/err"
is "$?" 1 "bad settings: exit 1 before listening"
like "$(cat "$WORK/err")" '^access-limiter: ACCESS_LIMIT' "naming the setting"

# --- Answers ----------------------------------------------------------------
start_authorizer "$WORK/log" "$LIMITER" --fastcgi "$ADDRESS" --workers 2
ok $? "started on $ADDRESS with 2 workers"
is "$(workers_of "$AUTHORIZER_PID" | wc -l)" 2 "two workers run"

fcgi "$ADDRESS" QUERY_STRING=app_id=alice REQUEST_METHOD=GET
is "$(status)" 200 "admitted: 200"
is "$(header Variable-RATELIMIT_POLICY)" '"default";q=10;w=1' "the policy, as a variable for the application"
like "$(header Variable-RATELIMIT)" '^"default";r=9;t=1$' "the quota left, as a variable"
is "$(header Variable-ACCESS_LIMITER_DECIDED)" 1 "and marks the request decided"
is "$(header Content-Type)" "" "an admission sets no Content-Type: the application answers"
is "$(body)" "" "and carries no body"

# An hour's window, so that the client's own start-up time cannot let the
# window pass.
for _ in $(seq 4); do fcgi "$ADDRESS" QUERY_STRING=app_id=bob ACCESS_LIMIT=3 ACCESS_WINDOW=3600; done
is "$(status)" 429 "the 4th request of a window of 3: 429"
is "$(header Content-Type)" "application/json; charset=utf-8" "as JSON"
like "$(header Retry-After)" '^[1-9][0-9]*$' "with Retry-After"
like "$(header RateLimit)" '^"default";r=0;t=[1-9][0-9]*$' "and the RateLimit fields, for the client"
is "$(body)" '{"message":"Too Many Requests"}' "the CGI's body"
is "$(header Access-Limiter-Refusal)" 429 "marked as the limiter's refusal, for Apache's conf"

# Apache asks again for a subrequest and after an internal redirect, with
# the first answer's variables: admitted, and not counted again.
for _ in 1 2 3; do
  fcgi "$ADDRESS" QUERY_STRING=app_id=again ACCESS_LIMIT=1 ACCESS_WINDOW=3600 ACCESS_LIMITER_DECIDED=1
done
is "$(status)" 200 "a subrequest of a decided request: admitted"
fcgi "$ADDRESS" QUERY_STRING=app_id=again ACCESS_LIMIT=1 ACCESS_WINDOW=3600 \
  REDIRECT_ACCESS_LIMITER_DECIDED=1 'REDIRECT_RATELIMIT="default";r=0;t=9'
is "$(status) $(header Variable-RATELIMIT)" '200 "default";r=0;t=9' "a redirect's: admitted, its RateLimit passed on"
fcgi "$ADDRESS" QUERY_STRING=app_id=again ACCESS_LIMIT=1 ACCESS_WINDOW=3600
is "$(status)" 200 "neither was counted: the key's first request is admitted"

fcgi "$ADDRESS" REQUEST_METHOD=GET
is "$(status) $(body)" '401 {"message":"Unauthorized","detail":"no app_id was given: the request must carry a key"}' \
  "no QUERY_STRING at all: 401 naming the problem"
fcgi "$ADDRESS" 'QUERY_STRING=app_id=a&app_id=b'
is "$(status)" 400 "the key twice: 400"
# mod_authnz_fcgi sends no CONTENT_LENGTH: the type alone says "form".
fcgi "$ADDRESS" QUERY_STRING=app_id=carol REQUEST_METHOD=POST CONTENT_TYPE=application/x-www-form-urlencoded
is "$(status)" 400 "a form body it cannot read, with a parameter key: 400"
fcgi "$ADDRESS" QUERY_STRING=app_id=carol REQUEST_METHOD=PUT 'CONTENT_TYPE=multipart/form-data; boundary=x'
is "$(status)" 400 "a multipart one too"
like "$(body)" 'cannot read bodies: give app_id in the query string' "saying what to do instead"
fcgi "$ADDRESS" QUERY_STRING=app_id=carol REQUEST_METHOD=POST CONTENT_TYPE=application/json CONTENT_LENGTH=9
is "$(status)" 200 "a JSON body: the application's alone, admitted"
fcgi "$ADDRESS" 'QUERY_STRING=app_id=dave' 'HTTP_COOKIE=app_id=eve'
is "$(status)" 400 "a cookie PHP would read as another key: 400, as in the guard"

# --- Per-location settings, and only those ------------------------------------
# Windows of an hour here: a loaded machine must not let a window pass
# between the client's runs.
for _ in 1 2 3; do fcgi "$ADDRESS" QUERY_STRING=app_id=frank ACCESS_LIMIT=2 ACCESS_WINDOW=3600; done
is "$(status) $(header RateLimit-Policy)" '429 "default";q=2;w=3600' "a request's ACCESS_LIMIT applies (SetEnvIf in its location)"
for _ in 1 2 3; do fcgi "$ADDRESS" QUERY_STRING=app_id=ivan "ACCESS_LIMIT=5/1s,2/1h"; done
is "$(status) $(header RateLimit-Policy)" '429 "second";q=5;w=1, "hour";q=2;w=3600' \
  "a location's list of limits applies, every one (the hour's 2 here)"
is "$(body)" '{"message":"Too Many Requests","violated-policies":["hour"]}' "its 429 names the hour, as the CGI's does"
fcgi "$ADDRESS" QUERY_STRING=app_id=grace ACCESS_WINDOW=3600
is "$(header Variable-RATELIMIT_POLICY)" '"default";q=10;w=3600' "ACCESS_WINDOW too"
fcgi "$ADDRESS" ACCESS_KEY=header:X-Api-Key HTTP_X_API_KEY=secret-1
is "$(status)" 200 "ACCESS_KEY=header:NAME takes the key from that header"
fcgi "$ADDRESS" QUERY_STRING=app_id=heidi ACCESS_KNOWN_KEYS_ONLY=1
is "$(status)" 401 "ACCESS_KNOWN_KEYS_ONLY=1: an unregistered key is refused"
for _ in 1 2; do fcgi "$ADDRESS" QUERY_STRING=app_id=ivan ACCESS_LIMIT=1 ACCESS_WINDOW=3600 ACCESS_DRY_RUN=1; done
is "$(status) $(header Variable-ACCESS_LIMITER_DRY_RUN)" "200 429" "ACCESS_DRY_RUN=1: admitted, saying it would have been a 429"
fcgi "$ADDRESS" QUERY_STRING=app_id=judy ACCESS_LIMIT=0
is "$(status)" 500 "a bad per-location value: 500, the operator's mistake"
like "$(cat "$WORK/log")" 'ACCESS_LIMIT' "and the log names it"

# A local user can connect and send any parameter: none that names a path
# or a program, or fails open, is taken from a request.
mkdir "$WORK/evil"
cat >"$WORK/evil/mail" <<EOF
#!/bin/sh
touch "$WORK/evil/ran"
EOF
chmod +x "$WORK/evil/mail"
fcgi "$ADDRESS" QUERY_STRING=app_id=mallory ACCESS_ROOT="$WORK/evil" ACCESS_NODE_CACHE="$WORK/evil/cache" \
  ACCESS_ERROR_MAIL=root@localhost ACCESS_MAIL_COMMAND="$WORK/evil/mail" ACCESS_FAIL_OPEN=1 \
  ACCESS_STORE_TIMEOUT=0 ACCESS_KEY_SECRET=00112233445566778899aabbccddeeff ACCESS_APP_ROOT="$WORK/evil" \
  ACCESS_APP_INTERPRETER="$WORK/evil/mail"
is "$(status)" 200 "a request naming other paths and programs: decided as usual"
is "$(find "$WORK/evil" -mindepth 1 -printf '%f ')" "mail " "nothing written there, nothing run"
ok "$([ -e "$ROOT/mallory" ]; echo $?)" "counted in the server's own ACCESS_ROOT"

# --- Nothing kept from one request to the next --------------------------------
stop_authorizers
AUTHORIZER_PIDS=()
start_authorizer "$WORK/log1" "$LIMITER" --fastcgi "$ADDRESS" --workers 1
fcgi "$ADDRESS" QUERY_STRING=app_id=one ACCESS_LIMIT=3 ACCESS_WINDOW=3600 ACCESS_DRY_RUN=1 ACCESS_KNOWN_KEYS_ONLY=0
fcgi "$ADDRESS" QUERY_STRING=app_id=two
is "$(header Variable-RATELIMIT_POLICY) $(header Variable-ACCESS_LIMITER_DRY_RUN)" '"default";q=10;w=1 ' \
  "one worker: the next request has the server's limit, window and no dry run"
fcgi "$ADDRESS" ACCESS_KEY=header:X-Api-Key HTTP_X_API_KEY=k
fcgi "$ADDRESS" HTTP_X_API_KEY=k
is "$(status)" 401 "nor the last request's key source"
fcgi "$ADDRESS" QUERY_STRING=app_id=three ACCESS_KNOWN_KEYS_ONLY=1
fcgi "$ADDRESS" QUERY_STRING=app_id=three
is "$(status)" 200 "nor known keys only"

# --- One ACCESS_ROOT, one count, whichever door ------------------------------
for _ in $(seq 10); do cgi "$LIMITER" QUERY_STRING=app_id=shared ACCESS_WINDOW=3600; done
is "$(status)" 200 "ten CGI requests admitted"
fcgi "$ADDRESS" QUERY_STRING=app_id=shared ACCESS_WINDOW=3600
is "$(status)" 429 "the authorizer's 11th in the same window: 429"

# --- Bad values from a local client: one mail, bounded log lines -------------
stop_authorizers
AUTHORIZER_PIDS=()
printf '#!/bin/sh\n{ echo "--- mail"; cat; } >>"%s"\n' "$WORK/bad-value-mails" >"$WORK/countmailer"
chmod +x "$WORK/countmailer"
ACCESS_ERROR_MAIL=ops@example.org ACCESS_MAIL_COMMAND="$WORK/countmailer" ACCESS_MAIL_INTERVAL=600 \
  start_authorizer "$WORK/log-bad" "$LIMITER" --fastcgi "$ADDRESS" --workers 1
codes=""
for value in a b c 0 100001 "$(printf 'x\nSubject: phish')" "@bytes:100000"; do
  fcgi "$ADDRESS" QUERY_STRING=app_id=values ACCESS_LIMIT="$value"
  codes="$codes$(status) "
done
is "$codes" "500 500 500 500 500 500 500 " "seven bad ACCESS_LIMIT values from a client: seven 500s"
for _ in $(seq 30); do [ -s "$WORK/bad-value-mails" ] && break; sleep 0.1; done
sleep 0.3
is "$(grep -c '^--- mail' "$WORK/bad-value-mails")" 1 "one mail, not one per value: the report names the setting, not the value"
ok "$(! grep -q phish "$WORK/bad-value-mails"; echo $?)" "the mail carries none of the values"
like "$(cat "$WORK/log-bad")" "a request's parameters: ACCESS_LIMIT=\"x\\\\x0aSubject: phish\"" \
  "the log has the value, its newline escaped"
ok "$(awk 'length > 400 { long = 1 } END { exit long }' "$WORK/log-bad"; echo $?)" \
  "a 100,000-byte value makes no long log line (the value is cut at 64 bytes)"
like "$(cat "$WORK/log-bad")" '\.\.\.\(100000 bytes\)' "and says how long it was"

# A local client that connects and sends nothing holds the only worker 2 s
# at most, and is not mistaken for a stuck worker (killed, mailed).
worker=$(workers_of "$AUTHORIZER_PID")
python3 -c "import socket, sys, time; s = socket.create_connection(('127.0.0.1', int(sys.argv[1]))); time.sleep(8)" \
  "${ADDRESS##*:}" &
idle_client=$!
sleep 0.3
started=$(date +%s%N)
fcgi "$ADDRESS" QUERY_STRING=app_id=after-idle
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
is "$(status)" 200 "a request behind a silent connection is answered"
ok "$([ "$elapsed_ms" -lt 3500 ]; echo $?)" "within about 2 s (${elapsed_ms} ms), not at the stuck-worker ceiling"
kill "$idle_client" 2>/dev/null
wait "$idle_client" 2>/dev/null
is "$(workers_of "$AUTHORIZER_PID")" "$worker" "the worker was not killed"
ok "$(! grep -q 'stuck' "$WORK/log-bad"; echo $?)" "nor reported stuck"

# --- A hung store, a crash, a stuck worker ------------------------------------
stop_authorizers
AUTHORIZER_PIDS=()
cat >"$WORK/mailer" <<EOF
#!/bin/sh
cat >>"$WORK/mails"
EOF
chmod +x "$WORK/mailer"
ACCESS_STORE_TIMEOUT=0.5 ACCESS_TEST_FAULT=hang-store ACCESS_TEST_FAULT_KEY=stuck \
  ACCESS_ERROR_MAIL=ops@example.org ACCESS_MAIL_COMMAND="$WORK/mailer" ACCESS_MAIL_INTERVAL=0 \
  start_authorizer "$WORK/log2" "$TESTABLE" --fastcgi "$ADDRESS" --workers 2
before=$(workers_of "$AUTHORIZER_PID")
started=$(date +%s%N)
fcgi "$ADDRESS" QUERY_STRING=app_id=stuck
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
is "$(status) $(body)" '503 {"message":"Service Unavailable"}' "a store that hangs: 503 JSON"
ok "$([ "$elapsed_ms" -lt 3000 ]; echo $?)" "within ACCESS_STORE_TIMEOUT (${elapsed_ms} ms for 0.5 s)"
like "$(cat "$WORK/log2")" 'the store did not answer within 0.5 s \(ACCESS_STORE_TIMEOUT\)' "logged"
fcgi "$ADDRESS" QUERY_STRING=app_id=fine
is "$(status)" 200 "other requests are still answered"
wait_for_workers "$AUTHORIZER_PID" 2
after=$(workers_of "$AUTHORIZER_PID")
is "$(wc -l <<<"$after")" 2 "the stuck worker was replaced: two workers again"
ok "$([ "$before" != "$after" ]; echo $?)" "by a new one"
kill -0 "$AUTHORIZER_PID"
ok $? "the server did not exit"

# A worker that dies is replaced, and its death logged and mailed. (Built
# with ASan, a SIGSEGV is the sanitizer's report and exit status 86.)
victim=$(workers_of "$AUTHORIZER_PID" | head -1)
kill -SEGV "$victim"
death="was killed by signal 11 \(Segmentation fault\)"
[ "${ACCESS_SANITIZED:-OFF}" != ON ] || death="exited with status 86"
for _ in $(seq 50); do
  grep -q "authorizer worker $victim" "$WORK/log2" && [ -s "$WORK/mails" ] && break
  sleep 0.1
done
like "$(cat "$WORK/log2")" "authorizer worker $victim $death; a new worker replaces it" "a crash is logged"
like "$(cat "$WORK/mails" 2>/dev/null)" "authorizer worker $victim $death" "and mailed"
wait_for_workers "$AUTHORIZER_PID" 2
is "$(workers_of "$AUTHORIZER_PID" | wc -l)" 2 "and the worker replaced"
fcgi "$ADDRESS" QUERY_STRING=app_id=fine
is "$(status)" 200 "requests are answered after the crash"

# A worker stuck where its own deadline cannot help (stopped here, as one
# stuck in the kernel would be): killed and replaced after
# ACCESS_STORE_TIMEOUT (3 s here) and a 5 s margin, while the other worker
# answers.
stop_authorizers
AUTHORIZER_PIDS=()
ACCESS_STORE_TIMEOUT=3 ACCESS_TEST_FAULT=hang-store ACCESS_TEST_FAULT_KEY=stuck \
  start_authorizer "$WORK/log3" "$TESTABLE" --fastcgi "$ADDRESS" --workers 2
"$FCGI_CLIENT" "$ADDRESS" QUERY_STRING=app_id=stuck >/dev/null 2>&1 &
client=$!
sleep 0.5
busy=""
for pid in $(workers_of "$AUTHORIZER_PID"); do
  # The worker in the hung call: its thread sleeps in nanosleep (hang-store).
  grep -q 'hrtimer_nanosleep\|do_nanosleep' "/proc/$pid/task/"*/wchan 2>/dev/null && busy=$pid
  [ -n "$busy" ] && break
done
for pid in $(workers_of "$AUTHORIZER_PID"); do
  [ -n "$busy" ] || busy=$pid
done
kill -STOP "$busy"
fcgi "$ADDRESS" QUERY_STRING=app_id=other
is "$(status)" 200 "while one worker is stuck, the other answers"
for _ in $(seq 150); do
  grep -q "authorizer worker $busy was stuck" "$WORK/log3" && break
  sleep 0.1
done
like "$(cat "$WORK/log3")" "authorizer worker $busy was stuck on one request for [0-9]+ s; killed, and a new worker replaces it" \
  "the stuck worker is killed and replaced"
wait "$client"
wait_for_workers "$AUTHORIZER_PID" 2
is "$(workers_of "$AUTHORIZER_PID" | wc -l)" 2 "two workers again"

# --- Stopping, and the sockets it can serve ----------------------------------
fcgi "$ADDRESS" QUERY_STRING=app_id=x
started=$(date +%s%N)
kill -TERM "$AUTHORIZER_PID"
wait "$AUTHORIZER_PID"
is "$? $(tail -1 "$WORK/log3")" "0 access-limiter: FastCGI authorizer stopped" "SIGTERM: stops, exit 0"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
ok "$([ "$elapsed_ms" -lt 2000 ]; echo $?)" "idle workers stop at once (${elapsed_ms} ms), not at the 10 s grace"
AUTHORIZER_PIDS=()

# A unix socket: made 0660, and a stale one replaced.
start_authorizer "$WORK/log4" "$LIMITER" --fastcgi "$WORK/authz.sock" --workers 1
is "$(stat -c %a "$WORK/authz.sock")" 660 "a unix socket is made with mode 0660"
fcgi "$WORK/authz.sock" QUERY_STRING=app_id=unix
is "$(status)" 200 "and served"
stop_authorizers
AUTHORIZER_PIDS=()
start_authorizer "$WORK/log5" "$LIMITER" --fastcgi "$WORK/authz.sock" --workers 1
ok $? "a stale socket file is replaced"
inode=$(stat -c %i "$WORK/authz.sock")
err=$("$LIMITER" --fastcgi "$WORK/authz.sock" --workers 1 2>&1); rc=$?
is "$rc $err" "1 access-limiter: cannot listen on $WORK/authz.sock: a program is listening on it; stop it, or give another path" \
  "a socket another program listens on is refused"
is "$(stat -c %i "$WORK/authz.sock")" "$inode" "and left as it was"
stop_authorizers
AUTHORIZER_PIDS=()
touch "$WORK/plain"
"$LIMITER" --fastcgi "$WORK/plain" 2>"$WORK/err"
like "$? $(cat "$WORK/err")" "^1 .*cannot listen on $WORK/plain: it exists and is not a socket" "any other file is refused"

# Inherited sockets: descriptor 0 (mod_fcgid, spawn-fcgi) with no
# arguments, and systemd's LISTEN_FDS; a restart on a held socket refuses
# no connection.
python3 "$PROJECT_ROOT/tests/held_socket.py" "$ADDRESS" "$LIMITER" "$WORK/held" >"$WORK/held.out" 2>&1
is "$?" 0 "held_socket.py ran"
like "$(cat "$WORK/held.out")" 'stdin: 200' "no arguments, a listening socket on descriptor 0: served"
like "$(cat "$WORK/held.out")" 'systemd: 200' "LISTEN_FDS=1 and LISTEN_PID: served with --fastcgi"
like "$(cat "$WORK/held.out")" 'restart: answered [0-9]+ of [0-9]+, refused 0, broken 0$' \
  "a restart on the held socket refuses and breaks no request"

done_testing
