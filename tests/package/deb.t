#!/usr/bin/env bash
# The Debian package: built with CPack, checked by lintian, installed into
# this machine's Apache with apt-get, its collector and its FastCGI
# authorizer run as their units would, upgraded, removed and purged. Leaves
# the machine's Apache as it found it, whatever happens.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  skip "installing a package needs root; this run is not root"
  done_testing
  exit
fi
for tool in apt-get dpkg-deb lintian apache2ctl systemd-analyze systemd-socket-activate setpriv cpack; do
  if ! command -v "$tool" >/dev/null; then
    skip "$tool is missing: the package was NOT tested"
    done_testing
    exit
  fi
done
if dpkg-query -W -f='${db:Status-Abbrev}' access-limiter 2>/dev/null | grep -q '^[ihr]'; then
  skip "access-limiter is installed on this machine: the test would replace it; NOT tested"
  done_testing
  exit
fi

chmod 0755 "$WORK"
STORE=/var/lib/access-limiter/store
SETTINGS=/etc/access-limiter/settings.conf
CONF=/etc/apache2/conf-available/access-limiter.conf
AUTHORIZER_CONF=/etc/apache2/conf-available/access-limiter-authorizer.conf
PROTECT_CONF=/etc/apache2/access-limiter-protect.conf
UNAVAILABLE=/usr/share/access-limiter/unavailable.asis
# A conf of this test's own, in the machine's Apache: a location the
# authorizer protects.
TEST_CONF=access-limiter-deb-test
CRON=/etc/cron.d/access-limiter
UNITS=/lib/systemd/system
TIMER_LINK=/etc/systemd/system/timers.target.wants/access-limiter-gc.timer
SOCKET=access-limiter-authorizer.socket
SERVICE=access-limiter-authorizer.service
SOCKET_LINK=/etc/systemd/system/sockets.target.wants/$SOCKET
URL=http://127.0.0.1/cgi-bin/access-limiter
# Containers (this one) forbid service actions in package scripts with a
# policy-rc.d; held aside here so the package's reloads really happen.
POLICY=/usr/sbin/policy-rc.d
was_running=no
system_apache_running && was_running=yes
enabled_now() { ls /etc/apache2/conf-enabled /etc/apache2/mods-enabled; }
# The helpers' state: a2enmod's markers, deb-systemd-helper's records.
helper_state_now() {
  find /var/lib/apache2 /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
    -type f 2>/dev/null | sort
}
enabled_before=$(enabled_now)
# The modules the package must enable, and later disable: those not enabled now.
# (The CGI conf's, then the authorizer conf's, in the postinst's order.)
modules_to_enable=$(for module in cgid headers env actions setenvif authnz_fcgi mime asis; do
  [ -e "/etc/apache2/mods-enabled/$module.load" ] || echo "$module"
done)
helper_state_before=$(helper_state_now)
LOCATIONS_CONF=/etc/apache2/conf-available/access-limiter-locations.conf
restore() {
  local module
  mountpoint -q "$STORE/shared" 2>/dev/null && umount "$STORE/shared"
  [ -n "${authorizer_pid:-}" ] && kill -TERM "$authorizer_pid" 2>/dev/null && wait "$authorizer_pid" 2>/dev/null
  [ ! -e /etc/apache2/conf-enabled/access-limiter-locations.conf ] || a2disconf -q -p access-limiter-locations >/dev/null 2>&1
  rm -f "$LOCATIONS_CONF"
  if [ -e "/etc/apache2/conf-available/$TEST_CONF.conf" ]; then
    a2disconf -q -p "$TEST_CONF" >/dev/null 2>&1
    rm -f "/etc/apache2/conf-available/$TEST_CONF.conf"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -q access-limiter >/dev/null 2>&1
  # Should the package's scripts have failed to: the modules that were off, off.
  for module in ${modules_to_enable:-}; do
    [ ! -e "/etc/apache2/mods-enabled/$module.load" ] || a2dismod -q -f -p "$module" >/dev/null
  done
  [ -e "$WORK/policy-rc.d" ] && mv -f "$WORK/policy-rc.d" "$POLICY"
  restore_system_apache "$was_running"
  rm -rf "$WORK"
}
trap restore EXIT
[ -e "$POLICY" ] && mv "$POLICY" "$WORK/policy-rc.d"
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@" >"$WORK/apt.log" 2>&1; }

# ---- the package ------------------------------------------------------------
cmake --build "$BUILD_DIR" --target package >"$WORK/build.log" 2>&1
ok $? "cmake --build --target package builds the package" || cat "$WORK/build.log"
cpack_value() { sed -n "s/^set($1 \"\\(.*\\)\")\$/\\1/p" "$BUILD_DIR/CPackConfig.cmake"; }
version="$(cpack_value CPACK_PACKAGE_VERSION)-$(cpack_value CPACK_DEBIAN_PACKAGE_RELEASE)"
DEB="$BUILD_DIR/access-limiter_${version}_$(dpkg --print-architecture).deb"
ok "$([ -f "$DEB" ]; echo $?)" "it is named access-limiter_<version>_<arch>.deb: $(basename "$DEB")"
contents=$(dpkg-deb -c "$DEB" | awk '{print $6}' | tr '\n' ' ')
for file in ./usr/lib/cgi-bin/access-limiter ./usr/lib/cgi-bin/access-health ./etc/apache2/conf-available/access-limiter.conf \
  ".$AUTHORIZER_CONF" ".$PROTECT_CONF" ".$UNAVAILABLE" ".$UNITS/$SOCKET" ".$UNITS/$SERVICE" \
  ./lib/systemd/system/access-limiter-gc.service ./lib/systemd/system/access-limiter-gc.timer ./etc/cron.d/access-limiter \
  ./usr/share/man/man8/access-limiter.8.gz ./usr/share/doc/access-limiter/changelog.Debian.gz ./usr/share/doc/access-limiter/copyright; do
  like "$contents" "$file " "the package holds $file"
done
dpkg-deb -e "$DEB" "$WORK/control"
is "$(tr '\n' ' ' <"$WORK/control/conffiles")" "$CONF $AUTHORIZER_CONF $PROTECT_CONF $CRON " \
  "the confs, the protect fragment and the cron job are conffiles"
like "$(dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ./usr/share/man/man8/access-limiter.8.gz | zcat)" \
  '^\.TH ACCESS-LIMITER "8"' "the man page is a section 8 page"
is "$(dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ./usr/share/doc/access-limiter/changelog.Debian.gz | zcat | head -n 1 | cut -d' ' -f1-2)" \
  "access-limiter ($version)" "the changelog's newest entry is this version"

# lintian: no errors; each warning kept is listed, with its reason, in docs/package.md.
lintian --fail-on error "$DEB" >"$WORK/lintian.log" 2>&1
ok $? "lintian reports no errors" || cat "$WORK/lintian.log"
unlisted=""
while read -r tag; do
  grep -q "\`$tag\`" "$PROJECT_ROOT/docs/package.md" || unlisted="$unlisted $tag"
done < <(sed -n 's/^W: access-limiter: \([a-z0-9-]*\).*/\1/p' "$WORK/lintian.log" | sort -u)
is "$unlisted" "" "every lintian warning is listed in docs/package.md"

# ---- install ------------------------------------------------------------------
system_apache_running || apache2ctl start >/dev/null 2>&1
apt_get install "$DEB"
ok $? "apt-get install ./$(basename "$DEB") exits 0" || cat "$WORK/apt.log"
is "$(dpkg-query -W -f='${Status} ${Version}' access-limiter)" "install ok installed $version" "dpkg has it installed"
a2query -q -c access-limiter
ok $? "its conf is enabled"
a2query -q -c access-limiter-authorizer
ok $? "the authorizer's conf is enabled"
like "$(cat "$WORK/apt.log")" 'apache2_invoke: Enable configuration access-limiter' "through apache2-maintscript-helper"
is "$(cat /var/lib/access-limiter/enabled-modules)" "$modules_to_enable" "it enabled, and wrote down, exactly the modules that were not enabled"
like "$(grep -v '^#' "$SETTINGS")" "^Define ACCESS_ROOT $STORE\$" "the settings were created, with the store in /var/lib"
is "$(stat -c '%U %a' "$STORE")" "www-data 700" "the store belongs to www-data, closed to others"
like "$(grep '^Define ACCESS_KEY_SECRET' "$SETTINGS")" '^Define ACCESS_KEY_SECRET [0-9a-f]{32}$' "the first install made a cluster secret"
is "$(stat -c '%a %U %G' "$SETTINGS")" "640 root www-data" "the settings, which hold it, are root's and www-data's to read"
is "$(stat -c '%U %a' /var/lib/access-limiter/mail)" "www-data 700" "the mail throttle has a directory no other user can take first"
ok "$([ -L "$TIMER_LINK" ]; echo $?)" "the collector's timer is enabled"
ok "$([ -L "$SOCKET_LINK" ]; echo $?)" "the authorizer's socket is enabled (sockets.target wants it)"
ok "$([ -f "$PROTECT_CONF" ] && [ -f "$UNAVAILABLE" ]; echo $?)" "the protect fragment and the 503 answer are installed"
# invoke-rc.d refuses restarts without an init (this container): the
# restart a newly enabled mod_cgid needs is the one systemd would do.
[ -d /run/systemd/system ] || apache2ctl restart >/dev/null 2>&1
for _ in $(seq 50); do http GET "$URL?app_id=packaged" && [ "$(status)" = 200 ] && break; sleep 0.1; done
is "$(status) $(body)" '200 {"message":"OK"}' "Apache serves the limiter from the package"
is "$(header RateLimit-Policy)" '"default";q=10;w=1' "with the settings' defaults"
ok "$([ -d "$STORE/packaged" ]; echo $?)" "counting in the settings' ACCESS_ROOT"
http GET http://127.0.0.1/cgi-bin/access-health
is "$(status) $(body)" '200 {"status":"ok"}' "Apache serves the health check from the package"
like "$(/usr/sbin/access-limiter --version)" "^access-limiter " "access-limiter is on root's PATH"
apache2ctl -t >"$WORK/configtest.log" 2>&1
ok $? "apache2ctl -t passes with both confs and their modules enabled" || cat "$WORK/configtest.log"

# ---- the collector --------------------------------------------------------------
systemd-analyze verify "$UNITS/access-limiter-gc.service" "$UNITS/access-limiter-gc.timer" >"$WORK/verify.log" 2>&1
is "$? $(cat "$WORK/verify.log")" "0 " "systemd-analyze verify passes the service and the timer"
user=$(sed -n 's/^User=//p' "$UNITS/access-limiter-gc.service")
read -r -a exec_start <<<"$(sed -n 's/^ExecStart=//p' "$UNITS/access-limiter-gc.service")"
runuser -u www-data -- mkdir "$STORE/gone-idle" && runuser -u www-data -- touch "$STORE/gone-idle/1000000000-0"
runuser -u "$user" -- env -i PATH=/usr/bin:/bin "${exec_start[@]}" >/dev/null 2>"$WORK/gc.err"
is "$? $(cat "$WORK/gc.err")" "0 " "the service's command runs as $user, quietly"
ok "$([ ! -e "$STORE/gone-idle" ] && [ -d "$STORE/packaged" ]; echo $?)" "it collected the past window in the settings' store, and kept the current one"
runuser -u www-data -- mkdir "$STORE/gone-idle" && runuser -u www-data -- touch "$STORE/gone-idle/1000000000-0"
systemctl disable -q access-limiter-gc.timer
run_cron_job "$CRON" 2>"$WORK/cron.err"
ok "$([ -e "$STORE/gone-idle" ] && [ ! -s "$WORK/cron.err" ]; echo $?)" "the cron fallback does nothing while the timer is disabled"
systemctl enable -q access-limiter-gc.timer
run_cron_job "$CRON" 2>"$WORK/cron.err"
ok "$([ ! -e "$STORE/gone-idle" ] && [ ! -s "$WORK/cron.err" ]; echo $?)" "without systemd running, the cron fallback collects while the timer is enabled"

# ---- the authorizer ----------------------------------------------------------------
systemd-analyze verify "$UNITS/$SOCKET" "$UNITS/$SERVICE" >"$WORK/verify.log" 2>&1
is "$? $(cat "$WORK/verify.log")" "0 " "systemd-analyze verify passes the authorizer's socket and service"
is "$(sed -n 's/^ListenStream=//p' "$UNITS/$SOCKET")" 127.0.0.1:9137 "the socket listens on loopback only, where the conf asks"
is "$(sed -n 's/^\(User\|Group\)=//p' "$UNITS/$SERVICE" | tr '\n' ' ')" "www-data www-data " "the service runs as www-data"
# The service's command as the unit runs it: the listening socket handed
# over as systemd does (LISTEN_FDS, at the first connection), as its user,
# with none of this shell's environment. Apache finds it through a Define
# in the settings.
port=$(free_port)
read -r -a exec_start <<<"$(sed -n 's/^ExecStart=//p' "$UNITS/$SERVICE")"
systemd-socket-activate -l "127.0.0.1:$port" \
  setpriv --reuid=www-data --regid=www-data --init-groups -- "${exec_start[@]}" 2>"$WORK/authorizer.log" &
authorizer_pid=$!
for _ in $(seq 100); do grep -q '^Listening on' "$WORK/authorizer.log" && break; sleep 0.05; done
fcgi "127.0.0.1:$port" QUERY_STRING=app_id=packaged-fcgi REQUEST_METHOD=GET
is "$(status)" 200 "the service's ExecStart, handed a socket, admits a request" || cat "$WORK/authorizer.log"
is "$(header Variable-RATELIMIT_POLICY)" '"default";q=10;w=1' "with the RateLimit variables, from the settings' defaults"
like "$(cat "$WORK/authorizer.log")" \
  "FastCGI authorizer on the socket from systemd, $(getconf _NPROCESSORS_ONLN) workers?, ACCESS_ROOT $STORE" \
  "one worker per core, counting in the settings' ACCESS_ROOT"
is "$(ps -o user= -p "$authorizer_pid")" www-data "it runs as www-data"
ok "$([ -d "$STORE/packaged-fcgi" ]; echo $?)" "its count is in the store Apache's CGI uses"

# The machine's Apache, through the packaged confs: a location that
# includes the protect fragment, with a limit of its own.
echo "Define ACCESS_AUTHORIZER 127.0.0.1:$port" >>"$SETTINGS"
mkdir "$WORK/protected" && echo hello >"$WORK/protected/hello.txt"
cat >"/etc/apache2/conf-available/$TEST_CONF.conf" <<CONF
Alias /access-limiter-protected $WORK/protected
<Directory $WORK/protected>
  Require all granted
</Directory>
<Location /access-limiter-protected>
  SetEnvIf Request_URI "^" ACCESS_LIMIT=2 ACCESS_WINDOW=3600
  Include $PROTECT_CONF
</Location>
CONF
a2enconf -q "$TEST_CONF" >/dev/null && apache2ctl graceful >/dev/null 2>&1
PROTECTED="http://127.0.0.1/access-limiter-protected/hello.txt?app_id=packaged-apache-$$"
http GET "$PROTECTED"
for _ in $(seq 50); do [ "$(status)" = 200 ] && break; sleep 0.1; http GET "$PROTECTED"; done
is "$(status) $(body)" "200 hello" "Apache serves a location the packaged authorizer protects"
is "$(header RateLimit-Policy)" '"default";q=2;w=3600' "with the location's limit, set by SetEnvIf"
http GET "$PROTECTED"
http GET "$PROTECTED"
is "$(status) $(header Content-Type) $(body)" '429 application/json; charset=utf-8 {"message":"Too Many Requests"}' \
  "beyond it, the limiter's 429 JSON"
kill -TERM "$authorizer_pid"
wait "$authorizer_pid"
is "$?" 0 "SIGTERM stops it gracefully: exit 0"
authorizer_pid=""
like "$(cat "$WORK/authorizer.log")" 'FastCGI authorizer stopped' "and it says so"
http GET "$PROTECTED"
is "$(status) $(header Content-Type) $(body)" '503 application/json; charset=utf-8 {"message":"Service Unavailable"}' \
  "the authorizer down: the packaged 503 JSON, from /usr/share/access-limiter"
a2disconf -q -p "$TEST_CONF" >/dev/null && rm -f "/etc/apache2/conf-available/$TEST_CONF.conf"
sed -i '/^Define ACCESS_AUTHORIZER /d' "$SETTINGS"
apache2ctl graceful >/dev/null 2>&1

if [ -d /run/systemd/system ]; then
  systemctl start "$SOCKET"
  fcgi 127.0.0.1:9137 QUERY_STRING=app_id=packaged-unit REQUEST_METHOD=GET
  is "$(status)" 200 "systemd's $SOCKET serves on 127.0.0.1:9137"
  like "$(header Variable-RATELIMIT)" '^"default";r=9;t=' "with the RateLimit variables"
  is "$(systemctl show -p User --value "$SERVICE")" www-data "its service runs as www-data"
else
  skip "systemd is not running (PID 1 is $(ps -o comm= -p 1)): $SOCKET was NOT started by systemd nor probed on 127.0.0.1:9137"
fi

# ---- upgrade ----------------------------------------------------------------------
sed -i 's/^#Define ACCESS_LIMIT 10$/Define ACCESS_LIMIT 3/' "$SETTINGS"
echo "# an operator's note" >>"$CONF"
(cd "$BUILD_DIR" && cpack -D CPACK_DEBIAN_PACKAGE_RELEASE=77 -B "$WORK/rebuilt" >"$WORK/cpack.log" 2>&1)
REBUILT=$(ls "$WORK"/rebuilt/access-limiter_*.deb)
apt_get install "$REBUILT"
ok $? "apt-get install of a rebuilt version exits 0" || cat "$WORK/apt.log"
is "$(dpkg-query -W -f='${Version}' access-limiter)" "${version%-*}-77" "the rebuilt version is installed"
like "$(cat "$SETTINGS")" $'\nDefine ACCESS_LIMIT 3\n' "the edited setting survived the upgrade"
is "$(tail -n 1 "$CONF")" "# an operator's note" "the edited conffile survived the upgrade"
wait_for_fresh_second
codes=""
for _ in 1 2 3 4; do http GET "$URL?app_id=upgraded"; codes="$codes$(status) "; done
is "$codes" "200 200 200 429 " "after the upgrade's reload, Apache enforces the edited limit"

# ---- remove, purge ---------------------------------------------------------------
# The locations conf scripts/deploy --protect-location writes includes the
# protect fragment the package ships: remove must disable it, or Apache's
# check would fail on the missing file.
printf '<Location "/access-limiter-located">\n  Include %s\n</Location>\n' "$PROTECT_CONF" >"$LOCATIONS_CONF"
a2enconf -q access-limiter-locations >/dev/null && apache2ctl -t >/dev/null 2>&1
ok $? "a locations conf including the protect fragment passes Apache's check"
apt_get remove access-limiter
ok $? "apt-get remove exits 0" || cat "$WORK/apt.log"
apache2ctl -t >/dev/null 2>&1
ok $? "apache2ctl -t passes after remove"
is "$(enabled_now)" "$enabled_before" "remove left the same confs and modules enabled as before the install"
ok "$([ ! -e /usr/lib/cgi-bin/access-limiter ] && [ -f "$SETTINGS" ]; echo $?)" "remove takes the programs and keeps the settings"
ok "$([ ! -e /var/lib/access-limiter/enabled-modules ]; echo $?)" "remove forgets which modules it enabled: a reinstall starts from what it finds"
http GET "$URL?app_id=removed"
is "$(status)" 404 "Apache no longer serves the limiter"
run_cron_job "$CRON" 2>"$WORK/cron.err"
is "$(cat "$WORK/cron.err")" "" "the cron job left behind (a conffile) does nothing, quietly"
apt_get purge access-limiter
ok $? "apt-get purge exits 0" || cat "$WORK/apt.log"
apache2ctl -t >/dev/null 2>&1
ok $? "apache2ctl -t passes after purge"
is "$(enabled_now)" "$enabled_before" "purge left the same confs and modules enabled as before the install"
is "$(helper_state_now)" "$helper_state_before" "purge left the helpers' state as it was before the install"
leftovers=$(ls -d /etc/access-limiter /var/lib/access-limiter "$CONF" "$AUTHORIZER_CONF" "$PROTECT_CONF" "$LOCATIONS_CONF" "$CRON" \
  "$TIMER_LINK" "$SOCKET_LINK" /etc/systemd/system/access-limiter-gc.timer "/etc/systemd/system/$SOCKET" \
  /usr/share/access-limiter "$UNITS/$SOCKET" "$UNITS/$SERVICE" 2>/dev/null)
is "$leftovers" "" "purge leaves no settings, store, conffile, unit, timer or socket link or mask"

# A module the admin disabled stays disabled, and so does the conf that
# cannot load without it: Apache's configtest, and so its reloads, keep working.
module=$(head -n 1 <<<"$modules_to_enable")
if [ -n "$module" ]; then
  marker=/var/lib/apache2/module/disabled_by_admin/$module
  mkdir -p "$(dirname "$marker")" && touch "$marker"
  apt_get install "$DEB"
  ok $? "apt-get install with mod_$module disabled by the admin exits 0" || cat "$WORK/apt.log"
  like "$(cat "$WORK/apt.log")" "the admin disabled $module; the conf access-limiter(-authorizer)? stays disabled" \
    "it says why it leaves a conf disabled"
  ok "$([ ! -e "/etc/apache2/mods-enabled/$module.load" ] && [ ! -e /etc/apache2/conf-enabled/access-limiter.conf ]; echo $?)" \
    "neither the module nor the conf is enabled"
  apache2ctl -t >/dev/null 2>&1
  ok $? "apache2ctl -t passes"
  apt_get purge access-limiter
  rm -f "$marker"
  is "$(enabled_now)" "$enabled_before" "after purge, the same confs and modules are enabled as before"
else
  skip "cgid, headers, env, actions and setenvif were all enabled before: the admin-disabled module was NOT tested"
fi

# Purge never empties a file system mounted in the store (a GlusterFS
# volume, say), and the cron fallback stays quiet without its settings.
apt_get install "$DEB"
mkdir "$STORE/shared"
mount -t tmpfs -o size=1m tmpfs "$STORE/shared"
echo precious >"$STORE/shared/file"
rm -f "$SETTINGS"
run_cron_job "$CRON" 2>"$WORK/cron.err"
is "$(cat "$WORK/cron.err")" "" "the cron job is quiet while the settings file is missing"
apt_get purge access-limiter
ok $? "apt-get purge exits 0 with a file system mounted in the store" || cat "$WORK/apt.log"
like "$(cat "$WORK/apt.log")" "left /var/lib/access-limiter as it is: a file system is mounted in it" "it says so"
is "$(cat "$STORE/shared/file" 2>&1)" precious "and the mounted file system keeps its files"
umount "$STORE/shared"
rm -rf /var/lib/access-limiter

done_testing
