# shellcheck shell=bash
# Summary: Where the private Apache instance of scripts/run keeps its state.
# Usage: . "$(dirname "$0")/lib/private-apache.sh"   (after lib/common.sh)
#
# Gives: STATE_DIR (from --state-dir or ACCESS_STATE_DIR), apache_conf,
# apache_pid, apache_running, stop_private_apache.

STATE_DIR=${ACCESS_STATE_DIR:-${TMPDIR:-/tmp}/access-limiter-$(id -u)}

apache_conf() { echo "$STATE_DIR/httpd.conf"; }

# The running instance's pid, or nothing.
apache_pid() {
  local pid
  [ -f "$STATE_DIR/httpd.pid" ] || return 0
  pid=$(cat "$STATE_DIR/httpd.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

apache_running() { [ -n "$(apache_pid)" ]; }

# Stops the instance and waits until its processes are gone (10 s at most).
stop_private_apache() {
  local pid i
  pid=$(apache_pid)
  [ -n "$pid" ] || return 0
  apache2 -f "$(apache_conf)" -k stop 2>/dev/null || kill "$pid"
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}
