# shellcheck shell=bash
# Summary: Where the private Apache instance of scripts/run keeps its state.
# Usage: . "$(dirname "$0")/lib/private-apache.sh"   (after lib/common.sh)
#
# Gives: STATE_DIR (from --state-dir or ACCESS_STATE_DIR), apache_conf,
# check_state_dir, apache_pid, apache_running, stop_private_apache, start_collector,
# start_authorizer.

STATE_DIR=${ACCESS_STATE_DIR:-${TMPDIR:-/tmp}/access-limiter-$(id -u)}

apache_conf() { echo "$STATE_DIR/httpd.conf"; }

# Aborts unless the state directory is missing or this user's own, a real
# directory no one else may write: Apache reads its config as root, and
# scripts/stop signals the pids it holds, so one another user made (in
# /tmp, say) is refused, never used.
check_state_dir() {
  check_ancestors "$STATE_DIR" "the state directory"
  if [ -L "$STATE_DIR" ] || { [ -e "$STATE_DIR" ] && [ ! -d "$STATE_DIR" ]; }; then
    abort "the state directory $STATE_DIR is a link or not a directory: refused"
  fi
  [ -e "$STATE_DIR" ] || return 0
  if [ "$(stat -c %u "$STATE_DIR")" -ne "$(id -u)" ] || (((8#$(stat -c %a "$STATE_DIR") & 8#022) != 0)); then
    abort "the state directory $STATE_DIR is not this user's own, or others may write it: refused"
  fi
}

# The running instance's pid, or nothing.
apache_pid() {
  local pid
  [ -f "$STATE_DIR/httpd.pid" ] || return 0
  pid=$(cat "$STATE_DIR/httpd.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

apache_running() { [ -n "$(apache_pid)" ]; }

# start_collector ACCESS_ROOT : runs "access-limiter --gc" on ACCESS_ROOT
# every 10 s for as long as the instance runs (requests never collect; on a
# web node the package's timer does it). Its log: STATE_DIR/collector.log.
start_collector() {
  local apache
  apache=$(apache_pid)
  [ -n "$apache" ] || return 1
  # shellcheck disable=SC2016 # expanded by the collector's own shell
  ACCESS_ROOT=$1 setsid bash -c 'while kill -0 "$1" 2>/dev/null; do "$2" --gc >/dev/null; sleep 10; done' \
    collector "$apache" "$STATE_DIR/cgi-bin/access-limiter" </dev/null >/dev/null 2>>"$STATE_DIR/collector.log" &
  echo $! >"$STATE_DIR/collector.pid"
}

# start_authorizer PORT ACCESS_ROOT LIMIT KEY-SECRET [NAME=VALUE...] : runs
# access-limiter --fastcgi 127.0.0.1:PORT from the state directory's copy,
# with those settings (LIMIT may be empty: the default), as www-data when
# root (as Apache's CGI runs, so both can write the store), until
# stop_private_apache. Its log: STATE_DIR/authorizer.log.
start_authorizer() {
  local port=$1 root=$2 limit=$3 secret=$4 i
  shift 4
  local settings=("ACCESS_ROOT=$root" "ACCESS_KEY_SECRET=$secret" ${limit:+"ACCESS_LIMIT=$limit"} "$@")
  local runner=()
  # setpriv execs (runuser would stay as a parent that scripts/stop signals).
  [ "$(id -u)" -ne 0 ] || runner=(setpriv --reuid www-data --regid www-data --init-groups)
  : >"$STATE_DIR/authorizer.log"
  setsid "${runner[@]}" env "${settings[@]}" "$STATE_DIR/cgi-bin/access-limiter" --fastcgi "127.0.0.1:$port" \
    </dev/null >/dev/null 2>>"$STATE_DIR/authorizer.log" &
  echo $! >"$STATE_DIR/authorizer.pid"
  for ((i = 0; i < 50; i++)); do
    grep -q 'FastCGI authorizer on' "$STATE_DIR/authorizer.log" && return 0
    kill -0 "$(cat "$STATE_DIR/authorizer.pid")" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
# Stops the instance and waits until its processes are gone (10 s at most).
stop_private_apache() {
  local pid i
  if [ -f "$STATE_DIR/authorizer.pid" ]; then
    # Its own session (setsid): the supervisor stops its workers on SIGTERM.
    kill -TERM "$(cat "$STATE_DIR/authorizer.pid")" 2>/dev/null || true
    rm -f "$STATE_DIR/authorizer.pid"
  fi
  if [ -f "$STATE_DIR/collector.pid" ]; then
    # Its own process group (setsid): the loop and the sleep or --gc it waits on.
    kill -- "-$(cat "$STATE_DIR/collector.pid")" 2>/dev/null || true
    rm -f "$STATE_DIR/collector.pid"
  fi
  pid=$(apache_pid)
  [ -n "$pid" ] || return 0
  apache2 -f "$(apache_conf)" -k stop 2>/dev/null || kill "$pid"
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}
