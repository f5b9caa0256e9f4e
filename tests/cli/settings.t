#!/usr/bin/env bash
# --settings FILE: the operator commands take the Define lines Apache takes
# (the package's /etc/access-limiter/settings.conf), and not the environment.
. "$(dirname "$0")/../lib.sh"

SETTINGS="$WORK/settings.conf"
ROOT="$WORK/from-settings"
mkdir -p "$ROOT"
cat >"$SETTINGS" <<CONF
# as the package writes it
Define ACCESS_ROOT $ROOT
  define ACCESS_LIMIT   "25"
#Define ACCESS_WINDOW 60
CONF

out=$(env ACCESS_LIMIT=7 ACCESS_KEY=token "$LIMITER" --settings "$SETTINGS" --check-config); rc=$?
is "$rc" 0 "--settings FILE --check-config exits 0"
like "$out" $'ACCESS_LIMIT=25\nACCESS_ROOT='"$ROOT"$'\nACCESS_WINDOW=1\nACCESS_KEY=app_id' \
  "the file's values, and defaults for the rest: not the shell's ACCESS_*, nor commented lines"
"$LIMITER" --settings "$SETTINGS" --key add partner --limit 50 >/dev/null
ok $? "--key add with --settings exits 0"
ok "$([ -L "$ROOT/partner/.policy" ]; echo $?)" "it registered the key in the settings' ACCESS_ROOT"
like "$(ACCESS_ROOT=/nonexistent "$LIMITER" --settings "$SETTINGS" --status partner)" 'partner +0 +50  limit=50' \
  "--status reads the same store, whatever ACCESS_ROOT the shell has"

# Errors: exit 1 for a file that cannot be used, 2 for a command line.
printf 'Define ACCESS_LIMIT 5\nSetEnv ACCESS_ROOT /x\n' >"$WORK/bad.conf"
err=$("$LIMITER" --settings "$WORK/bad.conf" --gc 2>&1 >/dev/null); rc=$?
is "$rc $err" "1 access-limiter: $WORK/bad.conf:2: only \"Define NAME VALUE\" lines and # comments belong here, not \"SetEnv\"" \
  "a line that is not a Define is named, and nothing runs"
printf 'Define ACCESS_LIMIT lots\n' >"$WORK/bad-value.conf"
err=$("$LIMITER" --settings "$WORK/bad-value.conf" --check-config 2>&1 >/dev/null); rc=$?
is "$rc $err" '1 access-limiter: ACCESS_LIMIT="lots": must be a whole number from 1 to 100000, or a list of N/W such as 10/1s,1000/1h,20000/1d' \
  "a bad value is checked as ACCESS_LIMIT in the environment would be"
err=$("$LIMITER" --settings "$WORK/missing.conf" --status 2>&1 >/dev/null); rc=$?
is "$rc $err" "1 access-limiter: --settings $WORK/missing.conf: No such file or directory" "a missing file says so"
err=$("$LIMITER" --settings "$WORK" --status 2>&1 >/dev/null); rc=$?
is "$rc $err" "1 access-limiter: --settings $WORK: not a regular file" "a directory is not a settings file"
err=$("$LIMITER" --settings 2>&1 >/dev/null); rc=$?
is "$rc $err" "2 access-limiter: --settings needs a file; see --help" "--settings without a file is a usage error"
err=$(QUERY_STRING=app_id=k "$LIMITER" --settings "$SETTINGS" 2>&1 >/dev/null); rc=$?
is "$rc $err" "2 access-limiter: --settings FILE goes before --check-config, --gc, --status, --metrics, --key or --fastcgi; see --help" \
  "--settings with no command is a usage error, not a request with other settings"
like "$("$LIMITER" --help)" '--settings FILE' "--help documents --settings"

# Under a web server the arguments are never read: a client's "?--settings+/x"
# must not choose the settings.
cgi "$LIMITER" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET QUERY_STRING=--settings+/x ACCESS_ROOT="$WORK/cgi-root"
is "$(status)" 401 "a web server's run with '--settings' in its query answers the request (401: no key)"

# A FIFO (or a device) is no settings file: refused at once, not waited on.
mkfifo "$WORK/fifo"
err=$(timeout 5 "$LIMITER" --settings "$WORK/fifo" --check-config 2>&1 >/dev/null); rc=$?
is "$rc $err" "1 access-limiter: --settings $WORK/fifo: not a regular file" "a FIFO is refused at once, not waited on"
err=$(timeout 5 "$LIMITER" --settings /dev/zero --check-config 2>&1 >/dev/null); rc=$?
is "$rc $err" "1 access-limiter: --settings /dev/zero: not a regular file" "a device is refused"

done_testing
