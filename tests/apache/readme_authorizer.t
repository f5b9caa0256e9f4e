#!/usr/bin/env bash
# README's "Protect an API" demo for php-fpm and a proxied app, as a
# newcomer runs it: scripts/run --protect DIR --php-fpm SOCKET --proxy URL,
# then 12 requests in one second on one key, to each. The php-fpm and the
# app are this script's own (README's uses Debian's php8.2-fpm service).
. "$(dirname "$0")/../lib.sh"

PHP_FPM=$(command -v php-fpm8.2 || command -v php-fpm || true)
if [ -z "$PHP_FPM" ]; then
  skip "php-fpm is not installed; README's php-fpm demo was NOT run"
  done_testing
  exit
fi
private_apache 22000
APP_PORT=$(free_port)
mkdir -p "$WORK/demo-api" "$WORK/demo-app" "$WORK/root"
printf '<?php echo "hello from PHP-FPM\\n";\n' >"$WORK/demo-api/hello.php"
echo 'hello from the app' >"$WORK/demo-app/index.html"
chmod -R a+rX "$WORK/demo-api" "$WORK/demo-app"
cat >"$WORK/php-fpm.conf" <<EOF
[global]
pid = $WORK/php-fpm.pid
error_log = $WORK/php-fpm.log
daemonize = no
[demo]
user = www-data
group = www-data
listen = $WORK/php-fpm.sock
listen.owner = www-data
listen.group = www-data
pm = static
pm.max_children = 2
EOF
"$PHP_FPM" -y "$WORK/php-fpm.conf" -F 2>>"$WORK/php-fpm.log" &
php_fpm_pid=$!
python3 -m http.server "$APP_PORT" --bind 127.0.0.1 --directory "$WORK/demo-app" >/dev/null 2>&1 &
app_pid=$!
trap 'kill "$php_fpm_pid" "$app_pid" 2>/dev/null; "$PROJECT_ROOT/scripts/stop" --state-dir "$STATE" >/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do
  [ -S "$WORK/php-fpm.sock" ] && curl -s -o /dev/null "http://127.0.0.1:$APP_PORT/" && break
  sleep 0.1
done

"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" --access-root "$WORK/root" \
  --protect "$WORK/demo-api" --php-fpm "$WORK/php-fpm.sock" --proxy "http://127.0.0.1:$APP_PORT/" \
  >"$WORK/run.log" 2>&1
ok $? "scripts/run --protect DIR --php-fpm SOCKET --proxy URL starts"
like "$(cat "$WORK/run.log")" "$WORK/demo-api at http://127.0.0.1:$PORT/api/, its \\*.php run by php-fpm at $WORK/php-fpm.sock" \
  "it says where the protected app is"
authorizer=$(cat "$STATE/authorizer.pid")

# ten_then_two URL KEY-PREFIX : the answers to 12 requests in one second.
ten_then_two() {
  local attempt windows
  for attempt in 1 2 3; do
    wait_for_fresh_second
    answers=$(for _ in $(seq 12); do curl -s "$1?app_id=$2$attempt"; echo; done |
      sed '/^$/d' | sort | uniq -c | awk '{$1 = $1; print}' | tr '\n' ';')
    windows=$(find "$WORK/root/$2$attempt" -type f -printf '%f\n' | cut -d- -f1 | sort -u | wc -l)
    [ "$windows" -eq 1 ] && return
    echo "# the requests straddled two seconds; trying again"
  done
}
ten_then_two "http://127.0.0.1:$PORT/api/hello.php" demo
is "$answers" '10 hello from PHP-FPM;2 {"message":"Too Many Requests"};' "php-fpm: ten answers from PHP, then the limiter's 429 JSON"
ten_then_two "http://127.0.0.1:$PORT/app/" other
is "$answers" '10 hello from the app;2 {"message":"Too Many Requests"};' "the proxied app: the same"
is "$(stat -c %U "$WORK/root/demo1")" www-data "the authorizer runs as www-data, as Apache's CGI does"

"$PROJECT_ROOT/scripts/stop" --state-dir "$STATE" >/dev/null
sleep 0.5
ok "$(! kill -0 "$authorizer" 2>/dev/null; echo $?)" "scripts/stop stops the authorizer too"

"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$WORK/other" --php-fpm 127.0.0.1:9000 >"$WORK/bad.log" 2>&1
is "$? $(cat "$WORK/bad.log")" "1 run: --php-fpm goes with --protect DIR" "--php-fpm without --protect is refused"

done_testing
