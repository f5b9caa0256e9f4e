#!/usr/bin/env bash
# A real application behind the limiter: access-limiter as Apache's Action
# handler in front of a CGI script and of a PHP script run by Debian's
# php-cgi, through a private Apache (scripts/run) started here and stopped
# whatever happens. Each application records every run, so the tests count
# what really ran, not what the limiter says.
. "$(dirname "$0")/../lib.sh"

PHP_CGI=$(command -v php-cgi || true)
private_apache 20000
APP="$WORK/app"

mkdir -p "$APP/cgi" "$APP/php" "$APP/outside" "$ROOT"
RUNS="$APP/runs"
: >"$RUNS"
chmod 0666 "$RUNS"
# The CGI application: 201, a header of its own, what it saw, and its body's checksum.
cat >"$APP/cgi/app.cgi" <<SCRIPT
#!/bin/sh
echo "cgi \$\$" >>"$RUNS"
printf 'Status: 201 Created\\r\\nContent-Type: text/plain\\r\\nX-App: cgi\\r\\n\\r\\n'
for name in SCRIPT_NAME PATH_INFO PATH_TRANSLATED QUERY_STRING REQUEST_METHOD CONTENT_TYPE \\
  CONTENT_LENGTH REQUEST_URI HTTP_X_TEST REMOTE_ADDR APP_ENV; do
  eval "echo \$name=\\\${\$name-unset}"
done
echo "PWD=\$(pwd)"
echo "BODY=\$(cat | sha256sum | cut -c1-16)"
SCRIPT
chmod 0755 "$APP/cgi/app.cgi"
# The whole environment, but for what differs between any two requests.
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nenv | grep -Ev "^(REMOTE_PORT|UNIQUE_ID)=" | sort\n' >"$APP/cgi/env.cgi"
chmod 0755 "$APP/cgi/env.cgi"
printf '#!/bin/sh\necho "outside" >>"%s"\nprintf "Content-Type: text/plain\\r\\n\\r\\nescaped\\n"\n' "$RUNS" >"$APP/outside/evil.cgi"
chmod 0755 "$APP/outside/evil.cgi"
ln -s "$APP/outside/evil.cgi" "$APP/cgi/link.cgi"
cat >"$APP/php/hello.php" <<PHP
<?php
file_put_contents("$RUNS", "php " . getmypid() . "\n", FILE_APPEND | LOCK_EX);
http_response_code(202);
header("X-App: php");
foreach (["SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "REQUEST_METHOD"] as \$name) {
  echo \$name, "=", \$_SERVER[\$name] ?? "unset", "\n";
}
echo "BODY=", substr(hash("sha256", file_get_contents("php://input")), 0, 16), "\n";
PHP
chmod -R a+rX "$APP"

# /api: the CGI app guarded (limit 5); /direct: the same files run directly;
# /php: the PHP app guarded (limit 4); /bare: the same PHP run by php-cgi as
# its own Action, the classic setup; /hdr: keyed by a header.
cat >"$WORK/guard.conf" <<CONF
Alias /api "$APP/cgi"
<Directory "$APP/cgi">
  Require all granted
  SetHandler access-limited
  SetEnv ACCESS_APP_ROOT "$APP/cgi"
  SetEnv ACCESS_LIMIT 5
  SetEnv APP_ENV production
  SetEnvIfExpr "%{CONTEXT_PREFIX} =~ /(.*)/" ACCESS_CONTEXT_PREFIX=\$1
  SetEnvIfExpr "%{CONTEXT_DOCUMENT_ROOT} =~ /(.*)/" ACCESS_CONTEXT_DOCUMENT_ROOT=\$1
</Directory>
Alias /direct "$APP/cgi"
<Location /direct>
  Options +ExecCGI
  SetHandler cgi-script
  SetEnv APP_ENV production
</Location>
Alias /hdr "$APP/cgi"
<Location /hdr>
  SetEnv ACCESS_KEY header:X-Api-Key
  SetEnv ACCESS_LIMIT 1
</Location>
Alias /once "$APP/cgi"
<Location /once>
  SetEnv ACCESS_LIMIT 1
  SetEnv ACCESS_WINDOW 600
</Location>
Alias /ip "$APP/cgi"
<Location /ip>
  SetEnv ACCESS_KEY remote-addr
  SetEnv ACCESS_LIMIT 1
</Location>
Alias /outside "$APP/outside"
<Directory "$APP/outside">
  Require all granted
</Directory>
CONF
PORT6=$((PORT + 1000))
IPV6=no
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
  IPV6=yes
  echo "Listen [::1]:$PORT6" >>"$WORK/guard.conf"
fi
if [ -n "$PHP_CGI" ]; then
  cat >>"$WORK/guard.conf" <<CONF
Alias /php "$APP/php"
<Directory "$APP/php">
  Require all granted
  SetHandler access-limited
  SetEnv ACCESS_APP_ROOT "$APP/php"
  SetEnv ACCESS_APP_INTERPRETER "$PHP_CGI"
  SetEnv ACCESS_LIMIT 4
</Directory>
$(php_bare_conf "$APP/php")
CONF
fi

"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" \
  --access-root "$ROOT" --include "$WORK/guard.conf" >"$WORK/run.log" 2>&1
ok $? "a private Apache serves the guarded applications" || cat "$WORK/run.log"
[ "$(id -u)" -eq 0 ] && chown www-data:www-data "$ROOT"
runs() { grep -c "^$1 " "$RUNS"; }

# The answer and the request, unchanged.
http GET "$URL/api/app.cgi/extra/x?app_id=first&q=1" -H 'X-Test: hello'
is "$(status)" 201 "admitted: the application's status (201)"
is "$(header X-App)" cgi "the application's own header"
is "$(header RateLimit-Policy)" '"default";q=5;w=1' "the RateLimit fields are added, with the location's limit"
like "$(header RateLimit)" '^"default";r=4;t=1$' "RateLimit counts down"
guarded=$(body | sed 's|/api/|/X/|g')
http GET "$URL/direct/app.cgi/extra/x?app_id=first&q=1" -H 'X-Test: hello'
direct=$(body | sed 's|/direct/|/X/|g')
is "$guarded" "$direct" "the application sees what a direct run sees (SCRIPT_NAME, PATH_INFO, PATH_TRANSLATED, QUERY_STRING, REQUEST_URI, headers, cwd, the location's variables)"
is "$(runs cgi)" 2 "one run each"
http GET "$URL/api/env.cgi?app_id=env&q=1" -H 'X-Test: hello'
body | sed 's|/api|/X|g' >"$WORK/env-guarded"
http GET "$URL/direct/env.cgi?app_id=env&q=1" -H 'X-Test: hello'
body | sed 's|/direct|/X|g' | grep -v '^ACCESS_CONTEXT_' >"$WORK/env-direct"
is "$(diff "$WORK/env-direct" "$WORK/env-guarded" | grep '^[<>]' | tr '\n' ' ')" "" \
  "the application's whole environment is a direct run's: no setting of the handler's own, CONTEXT_PREFIX and CONTEXT_DOCUMENT_ROOT the location's"
like "$(grep '^CONTEXT_' "$WORK/env-guarded" | tr '\n' ' ')" "^CONTEXT_DOCUMENT_ROOT=$APP/cgi CONTEXT_PREFIX=/X \$" "CONTEXT_* name the location's alias"
is "$(grep -c '^ACCESS_ROOT=' "$WORK/env-guarded")" 0 "the store's path is not handed on"

# Bodies, byte for byte.
post() { # post NAME URL CURL-ARGS... : the body's checksum must come back
  local name=$1 url=$2 want
  shift 2
  want=$(sha256sum <"$WORK/body" | cut -c1-16)
  http POST "$url" --data-binary @"$WORK/body" "$@"
  like "$(status)" '^20[12]$' "$name: admitted"
  like "$(body)" "BODY=$want" "$name: the body arrives byte for byte"
}
printf 'note=%s&app_id=formkey&z=%%C3%%A9' "$(head -c 1000 /dev/zero | tr '\0' n)" >"$WORK/body"
post "a form with the key inside" "$URL/api/app.cgi"
ok "$([ -d "$ROOT/formkey" ]; echo $?)" "the key from the form body is counted"
printf '{"app_id":"not-this-one","data":[1,2,3]}' >"$WORK/body"
post "JSON with the key in the query" "$URL/api/app.cgi?app_id=jsonkey" -H 'Content-Type: application/json'
head -c 300000 /dev/urandom >"$WORK/body"
post "a chunked binary body" "$URL/api/app.cgi?app_id=chunked" -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream'
head -c 10485760 /dev/urandom >"$WORK/body"
post "10 MiB of binary data" "$URL/api/app.cgi?app_id=upload" -H 'Content-Type: application/octet-stream'
printf 'app_id=chunkform&x=1' >"$WORK/body"
post "a chunked form with the key inside" "$URL/api/app.cgi" -H 'Transfer-Encoding: chunked'

# Bursts of concurrent requests in one second. A burst that straddles two
# seconds (seen on disk) is tried again on a fresh key.
burst() { # burst URL-PREFIX KEY COUNT : prints the status codes, sorted
  local i
  for ((i = 0; i < $3; i++)); do echo "$1app_id=$2"; done |
    xargs -P "$3" -n 1 curl -s -o /dev/null -w '%{http_code}\n' | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' '
}
# burst_in_one_window URL-PREFIX KEY-BASE COUNT APP : sets CODES (burst's)
# and RAN, how many times APP ran, for a burst that fell in one window.
burst_in_one_window() {
  local attempt before windows
  for attempt in 1 2 3; do
    before=$(runs "$4")
    wait_for_fresh_second
    CODES=$(burst "$1" "$2$attempt" "$3")
    RAN=$(($(runs "$4") - before))
    windows=$(find "$ROOT/$2$attempt" -type f -printf '%f\n' | cut -d- -f1 | sort -u | wc -l)
    [ "$windows" -eq 1 ] && return
    echo "# burst $attempt straddled two seconds; trying again"
  done
}
burst_in_one_window "$URL/api/app.cgi?" burst 12 cgi
is "$CODES" "201x5 429x7 " "12 concurrent requests, limit 5: five answers from the application, seven 429s"
is "$RAN" 5 "exactly five runs of the application"

# Several windows of load: never more than 5 runs in one window, and every
# run is one admission. A window's slot files live at least a second before
# --gc removes them, so snapshots every 0.2 s see every one.
before=$(runs cgi)
(
  while [ ! -e "$WORK/load-done" ]; do
    find "$ROOT/load" -type f -printf '%f\n' 2>/dev/null >>"$WORK/snapshots"
    sleep 0.2
  done
) &
ab -q -n 2000 -c 4 "$URL/api/app.cgi?app_id=load" >"$WORK/ab.log" 2>&1
sleep 0.3
touch "$WORK/load-done"
wait
completed=$(sed -n 's/^Complete requests: *//p' "$WORK/ab.log")
non_2xx=$(sed -n 's/^Non-2xx responses: *//p' "$WORK/ab.log")
admissions=$(sort -u "$WORK/snapshots" | wc -l)
per_window=$(sort -u "$WORK/snapshots" | cut -d- -f1 | uniq -c | awk '{print $1}' | tr '\n' ' ')
echo "# load: $completed requests, ${non_2xx:-0} refused; admissions per window: $per_window"
is "$completed" 2000 "ab completed 2000 requests"
is "$(($(runs cgi) - before))" "$((completed - ${non_2xx:-0}))" "every answer from the application is one run, and no 429 ran it"
is "$admissions" "$((completed - ${non_2xx:-0}))" "every run is one admission on disk"
ok "$([ "$(wc -w <<<"$per_window")" -ge 2 ]; echo $?)" "the load spanned several windows"
over=$(for n in $per_window; do [ "$n" -gt 5 ] && echo "$n"; done)
is "$over" "" "no window admitted more than 5"

# A key in a header. Each pair in one window: a second boundary between
# them would admit both.
wait_for_fresh_second
http GET "$URL/hdr/app.cgi" -H 'X-Api-Key: sk+live/AbC=='
is "$(status)" 201 "keyed by X-Api-Key: admitted"
http GET "$URL/hdr/app.cgi" -H 'X-Api-Key: sk+live/AbC=='
is "$(status)" 429 "the same header value again: 429 (limit 1)"
is "$(find "$ROOT" -name '*sk*' | wc -l)" 0 "the credential itself is nowhere in the store: it is counted under its hash"
http GET "$URL/hdr/app.cgi"
is "$(status)" 401 "no header: 401"

# A key from the client's address, IPv4 and IPv6.
wait_for_fresh_second
http GET "$URL/ip/app.cgi"
is "$(status)" 201 "keyed by the client's address: admitted"
http GET "$URL/ip/app.cgi"
is "$(status)" 429 "the same address again: 429 (limit 1)"
ok "$([ -d "$ROOT/127.0.0.1" ]; echo $?)" "counted under 127.0.0.1"
if [ "$IPV6" = yes ]; then
  http GET "http://[::1]:$PORT6/ip/app.cgi" -g
  is "$(status)" 201 "keyed by an IPv6 client address: admitted"
  ok "$([ -d "$ROOT/~3A~3A1" ]; echo $?)" "::1 is counted under the safe name ~3A~3A1"
else
  skip "no IPv6 on lo here: a key from an IPv6 address was NOT tested through Apache"
  skip "see above"
fi

# A refused upload gets the whole refusal, whatever the body's size: Apache
# sends all of it before reading the answer, and drops the answer of a CGI
# that left some unread. Window of 600 s: the key stays refused.
head -c 2097152 /dev/urandom >"$WORK/2m"
head -c 52428800 /dev/zero >"$WORK/50m"
http GET "$URL/once/app.cgi?app_id=uploader"
is "$(status)" 201 "the uploader's one request in 600 s"
for size in 2m 50m; do
  for framing in length chunked; do
    extra=()
    [ "$framing" = chunked ] && extra=(-H 'Transfer-Encoding: chunked')
    http POST "$URL/once/app.cgi?app_id=uploader" --data-binary @"$WORK/$size" \
      -H 'Content-Type: application/octet-stream' ${extra[@]+"${extra[@]}"}
    is "$(status) $(body)" '429 {"message":"Too Many Requests"}' "a refused $size upload ($framing): the whole 429 JSON arrives"
    like "$(header Retry-After)" '^[1-9][0-9]*$' "a refused $size upload ($framing): with its Retry-After"
  done
done
if [ "$(id -u)" -eq 0 ]; then
  runuser -u www-data -- env ACCESS_ROOT="$ROOT" "$LIMITER" --key add blocked-uploader --blocked >/dev/null
else
  ACCESS_ROOT="$ROOT" "$LIMITER" --key add blocked-uploader --blocked >/dev/null
fi
http POST "$URL/api/app.cgi?app_id=blocked-uploader" --data-binary @"$WORK/50m" -H 'Content-Type: application/octet-stream'
is "$(status) $(body)" '403 {"message":"Forbidden","detail":"key blocked-uploader is blocked"}' "a blocked key's 50m upload: the whole 403 JSON arrives"
rm -f "$WORK/2m" "$WORK/50m"

# Nothing else executes.
before=$(wc -l <"$RUNS")
http GET "$URL/api/link.cgi?app_id=escape"
is "$(status)" 403 "a link pointing out of ACCESS_APP_ROOT: 403"
like "$(body)" '"message":"Forbidden"' "a JSON refusal"
http GET "$URL/api/nope.cgi?app_id=escape"
is "$(status)" 404 "a missing script: 404 JSON"
for path in '/api/../outside/evil.cgi' '/api/%2e%2e/outside/evil.cgi' '/api/..%2foutside/evil.cgi' '/api/app.cgi/../../outside/evil.cgi'; do
  http GET "$URL$path?app_id=escape" --path-as-is
  unlike=$([ "$(body)" = escaped ] && echo ran || echo refused)
  is "$unlike" refused "$path: the script outside does not run ($(status))"
done
http GET "$URL/cgi-bin/access-limiter$APP/cgi/app.cgi?app_id=escape"
is "$(status) $(body)" '200 {"message":"OK"}' "the endpoint with a script's path appended answers JSON"
is "$(wc -l <"$RUNS")" "$before" "none of these ran anything"

# PHP through Debian's php-cgi.
if [ -z "$PHP_CGI" ]; then
  skip "php-cgi is not installed (apt-get install php-cgi); the PHP application was NOT tested"
else
  http GET "$URL/php/hello.php/more?app_id=php&x=1"
  is "$(status) $(header X-App)" "202 php" "PHP: the script's status and header"
  is "$(header RateLimit-Policy)" '"default";q=4;w=1' "PHP: the location's limit"
  guarded=$(body | sed 's|/php/|/X/|g')
  http GET "$URL/bare/hello.php/more?app_id=php&x=1"
  bare=$(body | sed 's|/bare/|/X/|g')
  is "$guarded" "$bare" "PHP sees what it sees as php-cgi's own Action (SCRIPT_NAME, PATH_INFO, QUERY_STRING)"
  printf 'a=1&app_id=phpform&b=%s' "$(head -c 2000 /dev/zero | tr '\0' b)" >"$WORK/body"
  post "PHP: a form with the key inside" "$URL/php/hello.php"
  head -c 10485760 /dev/urandom >"$WORK/body"
  post "PHP: 10 MiB of binary data" "$URL/php/hello.php?app_id=phpupload" -H 'Content-Type: application/octet-stream'
  burst_in_one_window "$URL/php/hello.php?" phpburst 10 php
  is "$CODES" "202x4 429x6 " "PHP: 10 concurrent requests, limit 4: four answers from PHP, six 429s"
  is "$RAN" 4 "PHP: exactly four runs; a rejection never starts php-cgi"
fi

is "$(grep -c 'reset by peer' "$STATE/error.log")" 0 "no answer was cut by a connection reset"

done_testing
