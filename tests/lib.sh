# shellcheck shell=bash disable=SC2034 # OUT, ERR and RC are read by the .t scripts
# Summary: TAP helpers for the black-box test scripts under tests/.
# Usage: . "$(dirname "$0")/../lib.sh"   (from a .t script run by prove --exec bash)
#
# The scripts run the built programs the way Apache would (meta-variables in
# the environment, the body on stdin, the CGI response on stdout), or talk
# HTTP to a real server; both answers are read with status, header and body.

set -u
PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${ACCESS_BUILD_DIR:-$PROJECT_ROOT/build}
LIMITER="$BUILD_DIR/cgi-bin/access-limiter"
HEALTH="$BUILD_DIR/cgi-bin/access-health"
TESTABLE="$BUILD_DIR/tests/access-limiter-testable"

TEST_NUMBER=0
FAILED=0
SKIPPED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/access-cli.XXXXXX")
trap 'stop_authorizers; rm -rf "$WORK"' EXIT
# A node cache of this script's own: what an earlier run learnt about a
# pinned second (ACCESS_TEST_NOW) must not decide this run's requests.
export ACCESS_NODE_CACHE="$WORK/node-cache"

for program in "$LIMITER" "$HEALTH" "$TESTABLE"; do
  if [ ! -x "$program" ]; then
    echo "Bail out! $program is not built (cmake --build build)"
    exit 1
  fi
done

ok() { # ok CONDITION-STATUS NAME
  TEST_NUMBER=$((TEST_NUMBER + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $TEST_NUMBER - $2"
  else
    echo "not ok $TEST_NUMBER - $2"
    FAILED=$((FAILED + 1))
  fi
}

is() { # is GOT EXPECTED NAME
  if [ "$1" = "$2" ]; then ok 0 "$3"; else
    ok 1 "$3"
    printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
  fi
}

like() { # like GOT EXTENDED-REGEX NAME
  if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
    ok 1 "$3"
    printf '#   got:   %s\n#   wanted: /%s/\n' "$1" "$2"
  fi
}

skip() { # skip REASON : reported as skipped, never as passed
  TEST_NUMBER=$((TEST_NUMBER + 1))
  SKIPPED=$((SKIPPED + 1))
  echo "ok $TEST_NUMBER # skip $1"
}

# Prints the plan. Exit status: 1 if any test failed; 77 (skipped, for
# tests/run-tap and CTest) if every test was a skip; else 0.
done_testing() {
  echo "1..$TEST_NUMBER"
  [ "$FAILED" -eq 0 ] || return 1
  [ "$TEST_NUMBER" -gt 0 ] && [ "$SKIPPED" -eq "$TEST_NUMBER" ] && return 77
  return 0
}

# cgi PROGRAM [VAR=value ...] : one CGI run; the body comes from $BODY.
# Sets OUT (stdout, CR removed), ERR (stderr), RC (exit status).
cgi() {
  local program=$1
  shift
  printf '%s' "${BODY:-}" | env "$@" "$program" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  OUT=$(tr -d '\r' <"$WORK/out")
  ERR=$(cat "$WORK/err")
}

# A run that only the watchdog ends (a hung store, ACCESS_STORE_TIMEOUT) is
# bounded here, so one it did not end fails by name well before CTest's
# TIMEOUT would stop the whole script.
HANG_BOUND=10
# hung_cgi PROGRAM [VAR=value ...] : cgi, but killed if still running after
# HANG_BOUND s (then RC is 124, or 137 if it outlived SIGTERM).
hung_cgi() {
  local program=$1
  shift
  printf '%s' "${BODY:-}" | timeout -k 2 "$HANG_BOUND" env "$@" "$program" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  OUT=$(tr -d '\r' <"$WORK/out")
  ERR=$(cat "$WORK/err")
}
# watchdog_ended_it WHAT : the last hung_cgi run ended before its bound.
watchdog_ended_it() {
  if [ "$RC" -ne 124 ] && [ "$RC" -ne 137 ]; then
    ok 0 "$1: ended within $HANG_BOUND s (the watchdog fired)"
  elif [ -z "$OUT" ]; then
    ok 1 "$1: no answer within $HANG_BOUND s: the watchdog did not fire"
  else
    ok 1 "$1: answered, but still running after $HANG_BOUND s: the watchdog did not end the process"
  fi
}

# http METHOD URL [CURL-ARGS...] : one HTTP exchange, read like a CGI answer
# (OUT starts "Status: CODE"); RC is curl's exit status.
http() {
  local method=$1 url=$2
  shift 2
  local head=(-X "$method")
  [ "$method" = HEAD ] && head=(-I)
  curl -s "${head[@]}" -D "$WORK/headers" -o "$WORK/body" "$@" "$url"
  RC=$?
  [ "$method" = HEAD ] && : >"$WORK/body"  # curl -I writes the headers there too
  # Only the final answer's headers: not those of a "100 Continue" before it.
  awk '/^HTTP\// { block = "" } { block = block $0 "\n" } END { printf "%s", block }' \
    "$WORK/headers" >"$WORK/final-headers"
  OUT=$( (sed -n '1s|^HTTP/[0-9.]* |Status: |p' "$WORK/final-headers"; sed '1d' "$WORK/final-headers"; cat "$WORK/body" 2>/dev/null) | tr -d '\r')
  ERR=""
}

# private_apache PORT-BASE : the state of a private Apache for this script
# (scripts/run --state-dir "$STATE"), stopped and removed on exit. Sets
# STATE, ROOT (an ACCESS_ROOT to use), PORT (PORT-BASE + 0..999, by pid) and
# URL. As root, Apache's CGI processes run as www-data and must reach $WORK.
private_apache() {
  chmod 0755 "$WORK"
  STATE="$WORK/state"
  ROOT="$WORK/root"
  PORT=$(($1 + $$ % 1000))
  URL="http://127.0.0.1:$PORT"
  trap 'stop_authorizers; "$PROJECT_ROOT/scripts/stop" --state-dir "$STATE" >/dev/null; rm -rf "$WORK"' EXIT
}

# php_bare_conf DIR [LINE...] : prints the conf that serves DIR's PHP at
# /bare through Debian's php-cgi as its own Action, the classic unguarded
# setup (each LINE goes into its <Location>); links php-cgi into
# $WORK/php-bin for it.
php_bare_conf() {
  local dir=$1 line
  shift
  mkdir -p "$WORK/php-bin"
  ln -sf "$(command -v php-cgi)" "$WORK/php-bin/php-cgi"
  printf 'ScriptAlias /php-bin/ "%s/php-bin/"\n<Directory "%s/php-bin">\n  Require all granted\n</Directory>\n' "$WORK" "$WORK"
  printf 'Action php-bare /php-bin/php-cgi virtual\nAlias /bare "%s"\n<Location /bare>\n  SetHandler php-bare\n' "$dir"
  for line in "$@"; do echo "  $line"; done
  echo "</Location>"
}

# apache_running_at STATE : a private Apache with that state directory runs.
apache_running_at() {
  local pid
  pid=$(cat "$1/httpd.pid" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

status() { printf '%s\n' "$OUT" | sed -n '1s/^Status: \([0-9]*\).*/\1/p'; }
header() { printf '%s\n' "$OUT" | sed -n "1,/^\$/s/^$1: //p"; }
body() { printf '%s\n' "$OUT" | sed '1,/^$/d'; }

# Sleeps until a wall-clock second has just begun, so a short burst of
# requests falls inside one window.
wait_for_fresh_second() {
  local nanos
  while :; do
    nanos=$(date +%N)
    ((10#$nanos < 150000000)) && return 0
    sleep 0.02
  done
}

# run_cron_job FILE : runs FILE's one job now, as cron would: its variable
# lines as the environment, the job's command through /bin/sh as its user.
run_cron_job() {
  local env_lines=() line user command
  while IFS= read -r line; do
    case $line in
      '#'* | '') ;;
      [A-Z]*=*) env_lines+=("$line") ;;
      *)
        user=$(awk '{print $6}' <<<"$line")
        command=$(cut -d' ' -f7- <<<"$line")
        ;;
    esac
  done <"$1"
  runuser -u "$user" -- env -i PATH=/usr/bin:/bin ${env_lines[@]+"${env_lines[@]}"} /bin/sh -c "$command"
}

# The machine's own Apache (Debian's apache2), for the tests that install
# into it: system_apache_running says whether it runs now; restore_system_apache
# WAS-RUNNING stops it again, or reloads it, as it was found.
system_apache_pid() { cat /var/run/apache2/apache2.pid 2>/dev/null; }
system_apache_running() {
  local pid
  pid=$(system_apache_pid)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}
restore_system_apache() {
  local pid i
  if [ "$1" = yes ]; then
    apache2ctl graceful >/dev/null 2>&1
    return
  fi
  pid=$(system_apache_pid)
  apache2ctl stop >/dev/null 2>&1
  for ((i = 0; i < 100; i++)); do
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
}

# The FastCGI authorizer (access-limiter --fastcgi) and a client that talks
# to it as mod_authnz_fcgi would (tests/fcgi_client.py).
FCGI_CLIENT="$PROJECT_ROOT/tests/fcgi_client.py"

# free_port : prints a loopback TCP port nobody listens on now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_authorizer LOG PROGRAM [ARGS...] : starts PROGRAM ARGS in the
# background (its stderr in LOG), with the environment as it is, and waits
# until its log says it serves. Sets AUTHORIZER_PID; it is stopped on exit
# (the EXIT traps here call stop_authorizers).
AUTHORIZER_PIDS=()
start_authorizer() {
  local log=$1 i
  shift
  "$@" 2>"$log" &
  AUTHORIZER_PID=$!
  AUTHORIZER_PIDS+=("$AUTHORIZER_PID")
  for i in $(seq 100); do
    grep -q 'FastCGI authorizer on' "$log" 2>/dev/null && sleep 0.1 && return 0
    kill -0 "$AUTHORIZER_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
stop_authorizers() {
  local pid
  for pid in ${AUTHORIZER_PIDS[@]+"${AUTHORIZER_PIDS[@]}"}; do
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pkill -KILL -P "$pid" 2>/dev/null
  done
  AUTHORIZER_PIDS=()
}

# fcgi ADDRESS [NAME=VALUE ...] : one authorizer request (fcgi_client.py's
# value forms). Sets OUT (stdout stream, CR removed), ERR, RC; the answer's
# status reads with status, its headers with header, its body with body.
fcgi() {
  timeout 20 "$FCGI_CLIENT" "$@" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  OUT=$(tr -d '\r' <"$WORK/out")
  ERR=$(cat "$WORK/err")
}

# workers_of PID : the authorizer's worker pids, one per line.
workers_of() { pgrep -P "$1" | sort; }
# wait_for_workers PID N : waits (5 s at most) until PID has N workers; a
# worker that ended within a second of its start is restarted a second later.
wait_for_workers() {
  local i
  for i in $(seq 50); do
    [ "$(workers_of "$1" | wc -l)" -eq "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
