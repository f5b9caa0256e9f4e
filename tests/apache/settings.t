#!/usr/bin/env bash
# Every setting reaches the programs through Apache as a Define (scripts/run
# --set, as the package's settings file and scripts/deploy --set give them),
# the optional ones only when Defined.
. "$(dirname "$0")/../lib.sh"

private_apache 24000
LIMITER_URL="$URL/cgi-bin/access-limiter"
start() { # start [--set NAME=VALUE...] : a fresh private Apache with those settings
  "$PROJECT_ROOT/scripts/stop" --state-dir "$STATE" >/dev/null 2>&1
  "$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" \
    --access-root "$ROOT" "$@" >"$WORK/run.log" 2>&1
}

start
ok $? "scripts/run starts with no optional setting" || cat "$WORK/run.log"
http GET "$LIMITER_URL?app_id=plain"
is "$(status)" 200 "none Defined: the programs' defaults apply (no empty SetEnv)"

start --set ACCESS_STORE_TIMEOUT=soon --set ACCESS_WINDOW=60
ok $? "scripts/run --set starts" || cat "$WORK/run.log"
http GET "$LIMITER_URL?app_id=timed"
is "$(status)" 500 "a Defined ACCESS_STORE_TIMEOUT reaches the program (an invalid one is its 500)"
like "$(cat "$STATE/error.log")" 'ACCESS_STORE_TIMEOUT="soon"' "the log names it"

# The mail settings: a store failure mails the stand-in sendmail.
MAILDIR="$WORK/mail"
mkdir -m 0777 "$MAILDIR"
cat >"$WORK/sendmail" <<STUB
#!/bin/sh
{ echo "args: \$*"; cat; } >"$MAILDIR/mail.tmp" && mv "$MAILDIR/mail.tmp" "$MAILDIR/mail"
STUB
chmod 0755 "$WORK/sendmail"
start --set ACCESS_ERROR_MAIL=ops@example.com --set "ACCESS_MAIL_COMMAND=$WORK/sendmail" \
  --set ACCESS_MAIL_INTERVAL=0 --set "ACCESS_NODE_CACHE=$MAILDIR/node-cache"
ok $? "scripts/run starts with the mail settings" || cat "$WORK/run.log"
http GET "$LIMITER_URL?app_id=cached"
ok "$([ "$(status)" = 200 ] && [ -s "$MAILDIR/node-cache" ]; echo $?)" "a Defined ACCESS_NODE_CACHE is the file the program shares"
# A link planted in the store is never followed: a 503, a log line, a mail.
ln -s /tmp "$ROOT/mailed"
http GET "$LIMITER_URL?app_id=mailed"
is "$(status)" 503 "a store failure: 503"
for _ in $(seq 50); do [ -f "$MAILDIR/mail" ] && break; sleep 0.1; done
like "$(head -n 1 "$MAILDIR/mail" 2>/dev/null)" '^args: -i -- ops@example.com' \
  "ACCESS_ERROR_MAIL and ACCESS_MAIL_COMMAND reached the program: it mailed"

"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" --set ACCESS_LIMT=5 >"$WORK/bad.log" 2>&1
like "$? $(cat "$WORK/bad.log")" '^1 run: --set ACCESS_LIMT: not a setting the conf knows \(ACCESS_LIMIT ' \
  "a misspelt --set is refused, with the names it knows"
"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" --set 'ACCESS_LIMIT=5 6' >"$WORK/bad.log" 2>&1
like "$? $(cat "$WORK/bad.log")" '^1 run: --set ACCESS_LIMIT=5 6: give NAME=VALUE' "a value with a space is refused"
# A value written into the generated config cannot add directives to it.
for option in --access-root --protect --include --state-dir; do
  "$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" \
    "$option" "$WORK"$'\nInclude /etc/passwd' >"$WORK/bad.log" 2>&1
  like "$? $(head -n 1 "$WORK/bad.log")" '^1 run: ' "$option with a newline is refused before anything starts"
done
ok "$(! grep -rqs 'Include /etc/passwd' "$STATE" "$WORK"/*/httpd.conf; echo $?)" "and no config holds the injected line"
mkdir -p "$WORK/x[y]" "$WORK/xy"
"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" --protect "$WORK/x[y]" >"$WORK/bad.log" 2>&1
like "$? $(cat "$WORK/bad.log")" '^1 run: --protect .*: give a directory without wildcards' \
  "a --protect Apache would take as a pattern (and guard another directory) is refused"

done_testing
