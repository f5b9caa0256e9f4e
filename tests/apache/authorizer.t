#!/usr/bin/env bash
# The persistent authorizer in front of what Apache serves without starting
# a process: a PHP application on php-fpm (mod_proxy_fcgi) and an app
# server behind mod_proxy. A private Apache (event MPM) with the shipped
# apache/access-limiter-authorizer.conf and access-limiter-protect.conf, a
# private php-fpm, a small HTTP app and access-limiter --fastcgi, all
# started here and stopped whatever happens. The applications record every
# request they serve, so the tests count what really ran.
. "$(dirname "$0")/../lib.sh"

PHP_FPM=$(command -v php-fpm8.2 || command -v php-fpm || true)
if [ -z "$PHP_FPM" ]; then
  skip "php-fpm is not installed (apt-get install php-fpm): nothing here ran"
  done_testing
  exit $?
fi
chmod 0755 "$WORK"
ROOT="$WORK/root"
APP="$WORK/app"
mkdir -p "$ROOT" "$APP/php" "$WORK/logs"
RUNS="$APP/runs"
: >"$RUNS"
chmod 0666 "$RUNS"
HTTP_PORT=$(free_port)
PHP_PORT=$(free_port)
APP_PORT=$(free_port)
AUTHORIZER_ADDRESS="127.0.0.1:$(free_port)"
URL="http://127.0.0.1:$HTTP_PORT"

cat >"$APP/php/hello.php" <<PHP
<?php
file_put_contents("$RUNS", "php\n", FILE_APPEND | LOCK_EX);
header('Content-Type: text/plain');
header('X-App: php');
echo "hello ", \$_SERVER['REQUEST_METHOD'], " user=", \$_SERVER['REMOTE_USER'] ?? 'none',
  " test=", \$_SERVER['HTTP_X_TEST'] ?? 'none', " body=", md5(file_get_contents('php://input')), "\n";
PHP
cp "$APP/php/hello.php" "$APP/php/index.php"
cat >"$APP/php/fail.php" <<'PHP'
<?php
http_response_code(500);
header('Content-Type: text/plain');
echo "the application failed\n";
PHP

# php-fpm: its own master, pool and pid file.
cat >"$WORK/php-fpm.conf" <<EOF
[global]
pid = $WORK/php-fpm.pid
error_log = $WORK/logs/php-fpm.log
daemonize = no
[app]
user = www-data
group = www-data
listen = 127.0.0.1:$PHP_PORT
pm = static
pm.max_children = 2
EOF
"$PHP_FPM" -y "$WORK/php-fpm.conf" -F 2>>"$WORK/logs/php-fpm.log" &
PHP_FPM_PID=$!

# The proxied app: 201, a header of its own, and what it saw.
cat >"$APP/app.py" <<EOF
import hashlib, http.server, sys
class App(http.server.BaseHTTPRequestHandler):
    def answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        open("$RUNS", "a").write("app\n")
        text = ("%s %s test=%s body=%s\n" % (self.command, self.path, self.headers.get("X-Test"),
                hashlib.md5(body).hexdigest())).encode()
        self.send_response(201)
        self.send_header("Content-Type", "text/plain")
        self.send_header("X-App", "proxied")
        # An application's own RateLimit fields: the limiter's replace them.
        self.send_header("RateLimit", "app-own")
        self.send_header("RateLimit-Policy", "app-own")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)
    do_GET = do_POST = do_PUT = answer
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), App).serve_forever()
EOF
python3 "$APP/app.py" "$APP_PORT" 2>>"$WORK/logs/app.log" &
APP_PID=$!

modules=/usr/lib/apache2/modules
cat >"$WORK/httpd.conf" <<EOF
ServerRoot "$WORK"
Listen 127.0.0.1:$HTTP_PORT
PidFile "$WORK/httpd.pid"
ErrorLog "$WORK/logs/error.log"
LogLevel warn
User www-data
Group www-data
ServerName localhost
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule authz_user_module $modules/mod_authz_user.so
LoadModule authn_core_module $modules/mod_authn_core.so
LoadModule authnz_fcgi_module $modules/mod_authnz_fcgi.so
LoadModule headers_module $modules/mod_headers.so
LoadModule setenvif_module $modules/mod_setenvif.so
LoadModule env_module $modules/mod_env.so
LoadModule asis_module $modules/mod_asis.so
LoadModule alias_module $modules/mod_alias.so
LoadModule mime_module $modules/mod_mime.so
LoadModule dir_module $modules/mod_dir.so
LoadModule proxy_module $modules/mod_proxy.so
LoadModule proxy_fcgi_module $modules/mod_proxy_fcgi.so
LoadModule proxy_http_module $modules/mod_proxy_http.so
TypesConfig /etc/mime.types
Define ACCESS_AUTHORIZER $AUTHORIZER_ADDRESS
Define ACCESS_LIMITER_SHARE_DIR $PROJECT_ROOT/apache
Include $PROJECT_ROOT/apache/access-limiter-authorizer.conf
<Directory "$APP/php">
  Require all granted
  DirectoryIndex index.php
  <FilesMatch "\.php\$">
    SetHandler "proxy:fcgi://127.0.0.1:$PHP_PORT"
  </FilesMatch>
</Directory>
<Directory "$PROJECT_ROOT/apache">
  Require all granted
</Directory>
Alias /php/ "$APP/php/"
Alias /php-default/ "$APP/php/"
Alias /php-setenv/ "$APP/php/"
<Location /php/>
  SetEnvIf Request_URI "^" ACCESS_LIMIT=3
  SetEnvIf Request_URI "^" ACCESS_WINDOW=3600
  Include $PROJECT_ROOT/apache/access-limiter-protect.conf
</Location>
<Location /php-default/>
  Include $PROJECT_ROOT/apache/access-limiter-protect.conf
</Location>
<Location /php-setenv/>
  SetEnv ACCESS_LIMIT 2
  Include $PROJECT_ROOT/apache/access-limiter-protect.conf
</Location>
<Location /app/>
  ProxyPass http://127.0.0.1:$APP_PORT/
  SetEnvIf Request_URI "^" ACCESS_LIMIT=2
  SetEnvIf Request_URI "^" ACCESS_WINDOW=3600
  Include $PROJECT_ROOT/apache/access-limiter-protect.conf
</Location>
EOF
apache2 -t -f "$WORK/httpd.conf" >"$WORK/configtest" 2>&1
ok $? "the shipped confs pass Apache's config test"
apache2 -f "$WORK/httpd.conf" -k start
ACCESS_ROOT="$ROOT" start_authorizer "$WORK/logs/authorizer.log" "$LIMITER" --fastcgi "$AUTHORIZER_ADDRESS" --workers 2
ok $? "the authorizer started"
trap 'stop_authorizers; apache2 -f "$WORK/httpd.conf" -k stop 2>/dev/null; kill "$PHP_FPM_PID" "$APP_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "$URL/access-limiter-unavailable" && break
  sleep 0.1
done

runs() { grep -c "^$1\$" "$RUNS"; }

# --- php-fpm -----------------------------------------------------------------
http GET "$URL/php/hello.php?app_id=alice" -H 'X-Test: seen'
is "$(status) $(body)" "200 hello GET user=none test=seen body=d41d8cd98f00b204e9800998ecf8427e" \
  "admitted: php-fpm answers, the request unchanged, no limiter user leaks into PHP"
like "$(header Content-Type)" '^text/plain' "the application's own Content-Type"
is "$(header X-App)" php "and headers"
is "$(header RateLimit-Policy)" '"default";q=3;w=3600' "with the RateLimit-Policy field (the location's SetEnvIf limit)"
like "$(header RateLimit)" '^"default";r=2;t=[0-9]+$' "and the RateLimit field"
is "$(header Access-Limiter-Refusal)$(header WWW-Authenticate)" "" "no marker, no authentication challenge"

head -c 102400 /dev/urandom >"$WORK/upload"
expected_md5=$(md5sum <"$WORK/upload" | cut -c1-32)
http POST "$URL/php/hello.php?app_id=bob" --data-binary "@$WORK/upload" -H 'Content-Type: application/octet-stream'
is "$(status) $(body)" "200 hello POST user=none test=none body=$expected_md5" "a 100 KiB POST body reaches PHP intact"

before=$(runs php)
http POST "$URL/php/hello.php?app_id=form" --data 'app_id=other'
is "$(status) $(header Content-Type)" "400 application/json; charset=utf-8" \
  "a form POST, whose body PHP would read another app_id from: 400 JSON"
is "$(runs php)" "$before" "PHP did not run"

http GET "$URL/php/hello.php?app_id=bob"
http GET "$URL/php/hello.php?app_id=bob"
before=$(runs php)
http GET "$URL/php/hello.php?app_id=bob"
is "$(status)" 429 "the 4th request of a window of 3: 429"
is "$(header Content-Type)" "application/json; charset=utf-8" "as JSON, not Apache's text/html"
is "$(body)" '{"message":"Too Many Requests"}' "the limiter's body"
like "$(header Retry-After)" '^[0-9]+$' "Retry-After"
like "$(header RateLimit)" '^"default";r=0;t=[0-9]+$' "the RateLimit fields"
is "$(header Access-Limiter-Refusal)" 429 "marked as the limiter's refusal"
is "$(runs php)" "$before" "PHP did not run"

http GET "$URL/php/hello.php"
is "$(status) $(header Content-Type)" "401 application/json; charset=utf-8" "no key: 401 JSON"
is "$(body)" '{"message":"Unauthorized","detail":"no app_id was given: the request must carry a key"}' "naming the problem"
is "$(header WWW-Authenticate)" "" "with no Basic challenge"

# DirectoryIndex makes a subrequest, which mod_authnz_fcgi authorizes again:
# counted once all the same.
for _ in 1 2 3; do http GET "$URL/php/?app_id=carol"; done
is "$(status) $(body)" "200 hello GET user=none test=none body=d41d8cd98f00b204e9800998ecf8427e" \
  "a directory's index: three requests in a window of 3 are admitted (not counted twice)"
http GET "$URL/php/?app_id=carol"
is "$(status)" 429 "the 4th is refused"

http GET "$URL/php/fail.php?app_id=dave"
is "$(status) $(body)" "500 the application failed" "the application's own 500 passes through unchanged"

http GET "$URL/php-default/hello.php?app_id=erin"
is "$(header RateLimit-Policy)" '"default";q=10;w=1' "a location without SetEnvIf: the authorizer's own limit"
http GET "$URL/php-setenv/hello.php?app_id=erin"
is "$(header RateLimit-Policy)" '"default";q=10;w=1' \
  "SetEnv does not reach the authorizer (applied after authorization): SetEnvIf is the way"

# --- an app behind mod_proxy -----------------------------------------------
http PUT "$URL/app/orders?app_id=frank" --data-binary "@$WORK/upload" -H 'X-Test: seen' \
  -H 'Content-Type: application/octet-stream'
is "$(status) $(body)" "201 PUT /orders?app_id=frank test=seen body=$expected_md5" \
  "admitted: the proxied app answers, method, headers and body unchanged"
is "$(header X-App) $(header RateLimit-Policy)" 'proxied "default";q=2;w=3600' "its headers, and the RateLimit fields"
is "$(grep -ci '^RateLimit' <<<"$OUT") $(header RateLimit | grep -c app-own)" "2 0" \
  "the application's own RateLimit fields are replaced, not sent beside the limiter's"
http GET "$URL/app/orders?app_id=frank"
before=$(runs app)
http GET "$URL/app/orders?app_id=frank"
is "$(status) $(header Content-Type)" "429 application/json; charset=utf-8" "the 3rd of 2: 429 JSON"
is "$(runs app)" "$before" "the app was not reached"

# --- the authorizer down -----------------------------------------------------
stop_authorizers
AUTHORIZER_PIDS=()
http GET "$URL/php/hello.php?app_id=gina"
is "$(status) $(header Content-Type)" "503 application/json; charset=utf-8" \
  "the authorizer down: 503 JSON, not Apache's HTML 500"
is "$(body)" '{"message":"Service Unavailable"}' "the limiter's 503 body"

done_testing
