#!/usr/bin/env bash
# A settings file (the package's /etc/access-limiter/settings.conf) is read
# twice: by Apache, which includes its Define lines, and by the programs
# given --settings FILE (the collector, the operator commands, and
# scripts/deploy through --check-config). Both read the same files here,
# Apache with "apache2 -t -D DUMP_RUN_CFG", and must agree.
. "$(dirname "$0")/../lib.sh"

if ! command -v apache2 >/dev/null; then
  skip "apache2 is not installed: NOT tested"
  done_testing
  exit
fi

# apache_reads FILE : FILE's ACCESS_* Defines as Apache takes them, written
# as plain "Define NAME VALUE" lines.
apache_reads() {
  cat >"$WORK/httpd.conf" <<CONF
ServerRoot "$WORK"
PidFile "$WORK/httpd.pid"
ErrorLog "$WORK/error.log"
Listen 127.0.0.1:1
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
Include "$1"
CONF
  apache2 -f "$WORK/httpd.conf" -t -D DUMP_RUN_CFG 2>/dev/null |
    sed -n 's/^Define: \(ACCESS_[A-Z_]*\)=\(.*\)$/Define \1 \2/p'
}

# agree NAME : the programs read $WORK/case.conf as Apache
# does: --check-config prints the same for it as for Apache's reading of it.
agree() {
  apache_reads "$WORK/case.conf" >"$WORK/apache.conf"
  local got expected
  expected=$("$LIMITER" --settings "$WORK/apache.conf" --check-config 2>&1)
  got=$("$LIMITER" --settings "$WORK/case.conf" --check-config 2>&1)
  is "$got" "$expected" "$1"
}
# Each case turns the node cache off: --check-config would make one in /dev/shm.
case_file() { { cat; echo "Define ACCESS_NODE_CACHE off"; } >"$WORK/case.conf"; }

case_file <<'CONF'
# As the package writes it.
Define ACCESS_ROOT /var/lib/access-limiter/store
#Define ACCESS_LIMIT 10

Define ACCESS_WINDOW 60
CONF
agree "Define lines, comments and blank lines"

case_file <<'CONF'
  define ACCESS_LIMIT "25"
DEFINE ACCESS_KEY 'token'
	Define ACCESS_LIMIT 30
CONF
agree "\"define\" in any case, indented, a value in quotes, the last of two"

case_file <<'CONF'
# A comment that ends in a backslash \
Define ACCESS_WINDOW 60
CONF
agree "a comment that ends in \\ swallows the next line"

case_file <<'CONF'
Define ACCESS_ROOT /tmp/con\
tinued
CONF
agree "a value continued on the next line"

case_file <<'CONF'
Define ACCESS_ROOT /tmp/store\

CONF
agree "a \\ at a value's end joins the blank line after it"

done_testing
