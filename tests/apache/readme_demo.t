#!/usr/bin/env bash
# README's "Protect an API" demo, as a newcomer runs it: scripts/run
# --protect with php-cgi, then 12 requests in one second on one key.
. "$(dirname "$0")/../lib.sh"

PHP_CGI=$(command -v php-cgi || true)
if [ -z "$PHP_CGI" ]; then
  skip "php-cgi is not installed; README's PHP demo was NOT run"
  done_testing
  exit
fi
private_apache 21000
mkdir -p "$WORK/demo-api" && printf '<?php echo "hello from PHP\\n";\n' >"$WORK/demo-api/hello.php"
chmod -R a+rX "$WORK/demo-api"

"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" --access-root "$WORK/root" \
  --protect "$WORK/demo-api" --interpreter "$PHP_CGI" --extension php >"$WORK/run.log" 2>&1
ok $? "scripts/run --protect DIR --interpreter php-cgi --extension php starts"
like "$(cat "$WORK/run.log")" "Guarded: $WORK/demo-api at http://127.0.0.1:$PORT/api/ .*, files \\*.php, run by $PHP_CGI" "it says where the guarded app is"
for attempt in 1 2 3; do
  wait_for_fresh_second
  answers=$(for _ in $(seq 12); do curl -s "http://127.0.0.1:$PORT/api/hello.php?app_id=demo$attempt"; done |
    sort | uniq -c | awk '{$1 = $1; print}' | tr '\n' ';')
  windows=$(find "$WORK/root/demo$attempt" -type f -printf '%f\n' | cut -d- -f1 | sort -u | wc -l)
  [ "$windows" -eq 1 ] && break
  echo "# the requests straddled two seconds; trying again"
done
is "$answers" '10 hello from PHP;2 {"message":"Too Many Requests"};' "ten answers from PHP, then the limiter's 429 JSON"
printf '<?php echo "should not run\n";\n' >"$WORK/demo-api/upload.jpg"
chmod a+r "$WORK/demo-api/upload.jpg"
body=$(curl -s "http://127.0.0.1:$PORT/api/upload.jpg?app_id=other")
like "$body" '^<\?php' "another file with PHP in it is served as a file, never run by php-cgi"
"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$WORK/other" --protect relative/dir >"$WORK/bad.log" 2>&1
is "$? $(cat "$WORK/bad.log")" "1 run: --protect needs an absolute directory without spaces or quotes" "a relative --protect is refused"

done_testing
