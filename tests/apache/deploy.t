#!/usr/bin/env bash
# scripts/deploy --local into this machine's own Apache (Debian layout): it
# builds the Debian package and installs it with apt-get; then requests to
# the Apache it deployed into. Restores the machine's Apache as it found it,
# whatever happens.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  skip "scripts/deploy --local needs root; this run is not root"
  done_testing
  exit
fi
if dpkg-query -W -f='${db:Status-Abbrev}' access-limiter 2>/dev/null | grep -q '^[ihr]'; then
  skip "access-limiter is installed on this machine: the test would replace it; NOT tested"
  done_testing
  exit
fi

DEPLOY="$PROJECT_ROOT/scripts/deploy"
chmod 0755 "$WORK"
ROOT="$WORK/deployed-root"
URL="http://127.0.0.1/cgi-bin/access-limiter"
SETTINGS=/etc/access-limiter/settings.conf
TIMER_LINK=/etc/systemd/system/timers.target.wants/access-limiter-gc.timer
BROKEN=/etc/apache2/conf-enabled/zz-access-limiter-test-broken.conf
# A CGI application under the default site's DocumentRoot, to protect.
APP_DIR=/var/www/html/access-limiter-test-api-$$
APP_URL="http://127.0.0.1/access-limiter-test-api-$$"
was_running=no
system_apache_running && was_running=yes
mods_before=$(ls /etc/apache2/mods-enabled)
# Lines this test adds to /etc/fstab end with this mark, and go with it.
FSTAB_MARK="# access-limiter-deploy-test-$$"
# The test's own apps behind the authorizer: a php-fpm and an HTTP server.
APPS_CONF=access-limiter-test-apps-$$
app_pids=()
restore() {
  sed -i "/$FSTAB_MARK/d" /etc/fstab
  [ -f "$WORK/sshd.pid" ] && kill "$(cat "$WORK/sshd.pid")" 2>/dev/null
  stop_authorizers
  [ ${#app_pids[@]} -eq 0 ] || kill "${app_pids[@]}" 2>/dev/null
  [ ! -e "/etc/apache2/conf-enabled/$APPS_CONF.conf" ] || a2disconf -q -p "$APPS_CONF" >/dev/null
  rm -f "$BROKEN" "/etc/apache2/conf-available/$APPS_CONF.conf"
  "$DEPLOY" --local --remove >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -q access-limiter >/dev/null 2>&1
  rm -rf "$APP_DIR"
  # deploy enables what the package's helper would not (an admin's earlier
  # a2dis*); -p leaves no marker of this test behind.
  for module in cgid headers env actions setenvif authnz_fcgi mime asis proxy_fcgi proxy_http proxy; do
    if ! grep -qx "$module.load" <<<"$mods_before" && [ -e "/etc/apache2/mods-enabled/$module.load" ]; then
      a2dismod -q -f -p "$module" >/dev/null
    fi
  done
  restore_system_apache "$was_running"
  rm -rf "$WORK"
}
trap restore EXIT
snapshot() { find /etc/apache2 /usr/lib/cgi-bin /etc/cron.d /etc/access-limiter /etc/systemd/system -printf '%p %s %T@\n' 2>/dev/null | sort | md5sum; }
CRON=/etc/cron.d/access-limiter
# The package deploy builds, and one more release of it.
DEB=$(ACCESS_BUILD_DIR=$BUILD_DIR bash -c ". '$PROJECT_ROOT/scripts/lib/common.sh'; build_package")
VERSION=$(dpkg-deb -f "$DEB" Version)

before=$(snapshot)
"$DEPLOY" --local --dry-run --set ACCESS_LIMIT=3 --set "ACCESS_ROOT=$ROOT" >"$WORK/dry.log" 2>&1
ok $? "dry run exits 0"
like "$(cat "$WORK/dry.log")" "would: apt-get install ./$(basename "$DEB") \(access-limiter $VERSION\)" "dry run says it would install the package"
like "$(cat "$WORK/dry.log")" 'would: apache2ctl -t, then apache2ctl graceful' "dry run says it would check, then reload"
is "$(snapshot)" "$before" "dry run changed nothing on disk"

"$DEPLOY" --local --set ACCESS_LIMIT=3 --set "ACCESS_ROOT=$ROOT" >"$WORK/deploy.log" 2>&1
ok $? "deploy --local exits 0" || cat "$WORK/deploy.log"
like "$(cat "$WORK/deploy.log")" "installed: access-limiter $VERSION" "the package was installed"
is "$(dpkg-query -W -f='${Status} ${Version}' access-limiter)" "install ok installed $VERSION" "dpkg has it installed"
like "$(cat "$SETTINGS")" $'\nDefine ACCESS_ROOT '"$ROOT"$'\n' "--set ACCESS_ROOT replaced the settings' line"
like "$(cat "$SETTINGS")" $'\nDefine ACCESS_LIMIT 3\n' "--set ACCESS_LIMIT took the place of its commented line"
is "$(grep -c 'Define ACCESS_LIMIT ' "$SETTINGS")" 1 "no setting appears twice"
ok "$([ -L /etc/apache2/conf-enabled/access-limiter.conf ]; echo $?)" "the conf is enabled"
like "$(apache2ctl -M 2>/dev/null | tr '\n' ' ')" 'cgid_module.*headers_module' "mod_cgid and mod_headers are enabled"
ok "$([ -z "$(find /usr/lib/cgi-bin /etc/apache2/conf-available /etc/access-limiter -name '.*.new' -o -name '.*.prev')" ]; echo $?)" "no temporary or backup files are left"

wait_for_fresh_second
for _ in 1 2 3 4; do http GET "$URL?app_id=deployed"; done
is "$(status)" 429 "the deployed Apache limits: the 4th request in a second with ACCESS_LIMIT=3 is 429"
is "$(header RateLimit-Policy)" '"default";q=3;w=1' "the --set ACCESS_LIMIT reached the CGI"
ok "$([ -d "$ROOT/deployed" ]; echo $?)" "the --set ACCESS_ROOT reached the CGI"
http GET "http://127.0.0.1/cgi-bin/access-health"
is "$(status) $(body)" '200 {"status":"ok"}' "the deployed health check answers 200"

# The collector: requests never remove counters, the timer (or cron) does.
like "$(cat "$WORK/deploy.log")" "collector: access-limiter-gc.timer runs access-limiter --gc every minute" "deploy says this node collects"
ok "$([ -L "$TIMER_LINK" ]; echo $?)" "the timer is enabled"
install -d -o www-data -g www-data "$ROOT/gone-idle" && runuser -u www-data -- touch "$ROOT/gone-idle/1000000000-0"
run_cron_job "$CRON" 2>"$WORK/cron.err"
is "$? $(cat "$WORK/cron.err")" "0 " "the cron fallback runs as cron would run it, and says nothing"
ok "$([ ! -e "$ROOT/gone-idle" ] && [ -d "$ROOT/deployed" ]; echo $?)" "it collected the deployed ACCESS_ROOT: the past window went, the current one stayed"

"$DEPLOY" --local --set ACCESS_LIMIT=3 --set "ACCESS_ROOT=$ROOT" >"$WORK/again.log" 2>&1
ok $? "deploying again exits 0"
like "$(cat "$WORK/again.log")" 'nothing changed; Apache not reloaded' "deploying the same again changes nothing"

# deploy reads the settings as the programs (and Apache) do, through
# --check-config: "define" in any case, a value in quotes.
cp -p "$SETTINGS" "$WORK/settings.saved"
sed -i "s|^Define ACCESS_ROOT .*|  define ACCESS_ROOT \"$ROOT\"|" "$SETTINGS"
"$DEPLOY" --local --dry-run >"$WORK/lower-case.log" 2>&1
like "$(cat "$WORK/lower-case.log")" "would: make or close ACCESS_ROOT $ROOT " "a lower-case define of ACCESS_ROOT is the store deploy checks"
# The cluster secret: the one the programs take, not one commented out.
secret=$(sed -n 's/^Define ACCESS_KEY_SECRET \([0-9a-f]\{32\}\)$/\1/p' "$SETTINGS")
sed -i "s|^Define ACCESS_KEY_SECRET .*|#Define ACCESS_KEY_SECRET 0123456789abcdef0123456789abcdef\ndefine ACCESS_KEY_SECRET '$secret'|" "$SETTINGS"
is "$("$DEPLOY" --print-key-secret --package "$DEB" 2>&1)" "$secret" "--print-key-secret prints the secret the programs read"
cp -p "$WORK/settings.saved" "$SETTINGS"

# Protect an application: its scripts run only behind the limiter.
mkdir -p "$APP_DIR"
cat >"$APP_DIR/app.cgi" <<SCRIPT
#!/bin/sh
echo run >>"$WORK/app-runs"
printf 'Status: 201 Created\r\nContent-Type: text/plain\r\n\r\nfrom the application\n'
SCRIPT
echo 'static page' >"$APP_DIR/page.html"
chmod 0755 "$APP_DIR/app.cgi" && chmod 0644 "$APP_DIR/page.html" && touch "$WORK/app-runs" && chmod 0666 "$WORK/app-runs"
"$DEPLOY" --local --set ACCESS_LIMIT=3 --set "ACCESS_ROOT=$ROOT" --protect "$APP_DIR" --extension cgi >"$WORK/protect.log" 2>&1
ok $? "deploy --protect exits 0" || cat "$WORK/protect.log"
like "$(cat "$WORK/protect.log")" "protected: $APP_DIR \(\*\.cgi\)" "it says what it protects"
ok "$([ -L /etc/apache2/conf-enabled/access-limiter-guard.conf ]; echo $?)" "the guard conf is enabled"
wait_for_fresh_second
codes=""
for _ in 1 2 3 4; do http GET "$APP_URL/app.cgi?app_id=guarded"; codes="$codes$(status) "; done
is "$codes" "201 201 201 429 " "the protected script answers until the limit, then the limiter answers 429"
is "$(wc -l <"$WORK/app-runs")" 3 "the application ran three times, not four"
http GET "$APP_URL/app.cgi"
is "$(status)" 401 "no key: 401 from the limiter"
http GET "$APP_URL/page.html"
is "$(status) $(body)" "200 static page" "--extension cgi: other files are served as before"
before=$(snapshot)
"$DEPLOY" --local --protect /no/such/dir >"$WORK/protect-bad.log" 2>&1
is "$? $(cat "$WORK/protect-bad.log")" "1 deploy: --protect /no/such/dir: no such directory" "a missing directory is refused"
is "$(snapshot)" "$before" "before any change"

# Protect locations whose requests start no process: a PHP app on php-fpm
# (mod_proxy_fcgi) and an app behind mod_proxy, as the machine's Apache
# serves them; the FastCGI authorizer decides first.
PHP_FPM=$(command -v php-fpm8.2 || command -v php-fpm || true)
if [ -n "$PHP_FPM" ]; then
  FPM_PORT=$(free_port) APP_PORT=$(free_port) AUTHZ_PORT=$(free_port)
  FPM_PATH=/access-limiter-test-fpm-$$ APP_PATH=/access-limiter-test-app-$$
  mkdir -p "$WORK/fpm-api" "$WORK/proxied-app"
  printf '<?php echo "hello from PHP-FPM\\n";\n' >"$WORK/fpm-api/hello.php"
  echo 'hello from the app' >"$WORK/proxied-app/index.html"
  chmod -R a+rX "$WORK/fpm-api" "$WORK/proxied-app"
  printf '[global]\npid = %s\nerror_log = %s\ndaemonize = no\n[test]\nuser = www-data\ngroup = www-data\nlisten = 127.0.0.1:%s\npm = static\npm.max_children = 2\n' \
    "$WORK/php-fpm.pid" "$WORK/php-fpm.log" "$FPM_PORT" >"$WORK/php-fpm.conf"
  "$PHP_FPM" -y "$WORK/php-fpm.conf" -F 2>>"$WORK/php-fpm.log" &
  app_pids+=($!)
  python3 -m http.server "$APP_PORT" --bind 127.0.0.1 --directory "$WORK/proxied-app" >/dev/null 2>&1 &
  app_pids+=($!)
  cat >"/etc/apache2/conf-available/$APPS_CONF.conf" <<CONF
Alias $FPM_PATH $WORK/fpm-api
<Directory $WORK/fpm-api>
  Require all granted
  <FilesMatch "\.php\$">
    SetHandler "proxy:fcgi://127.0.0.1:$FPM_PORT"
  </FilesMatch>
</Directory>
ProxyPass $APP_PATH/ http://127.0.0.1:$APP_PORT/
CONF
  a2enmod -q proxy_fcgi proxy_http >/dev/null && a2enconf -q "$APPS_CONF" >/dev/null && apache2ctl restart >/dev/null 2>&1
  for _ in $(seq 50); do
    http GET "http://127.0.0.1$FPM_PATH/hello.php"
    [ "$(status)" = 200 ] && curl -s -o /dev/null "http://127.0.0.1:$APP_PORT/" && break
    sleep 0.1
  done
  is "$(status) $(body)" "200 hello from PHP-FPM" "before: Apache serves the php-fpm app, unprotected"
  # Where the authorizer listens: a free port, not the package's 9137.
  echo "Define ACCESS_AUTHORIZER 127.0.0.1:$AUTHZ_PORT" >>"$SETTINGS"
  "$DEPLOY" --local --set ACCESS_LIMIT=3 --set "ACCESS_ROOT=$ROOT" \
    --protect-location "$FPM_PATH/" --protect-location "$APP_PATH/" >"$WORK/locations.log" 2>&1
  ok $? "deploy --protect-location exits 0" || cat "$WORK/locations.log"
  like "$(cat "$WORK/locations.log")" "protected: URL path $FPM_PATH/, by the FastCGI authorizer" "it says what it protects"
  ok "$([ -L /etc/apache2/conf-enabled/access-limiter-locations.conf ] && [ -L /etc/apache2/conf-enabled/access-limiter-authorizer.conf ]; echo $?)" \
    "the locations conf and the authorizer's conf are enabled"
  like "$(apache2ctl -M 2>/dev/null | tr '\n' ' ')" 'asis_module.*authnz_fcgi_module' "mod_authnz_fcgi and mod_asis are enabled"
  if [ -d /run/systemd/system ]; then
    ok "$(systemctl -q is-active access-limiter-authorizer.socket; echo $?)" "the authorizer's socket is started"
  else
    like "$(cat "$WORK/locations.log")" 'authorizer: WARNING: systemd is not running here, so nothing starts it' \
      "without systemd, it says the authorizer must be started by hand"
  fi
  # Not started yet: the location answers the limiter's 503 JSON, never the app.
  http GET "http://127.0.0.1$FPM_PATH/hello.php?app_id=located"
  is "$(status) $(header Content-Type) $(body)" '503 application/json; charset=utf-8 {"message":"Service Unavailable"}' \
    "no authorizer listening: 503 JSON"
  start_authorizer "$WORK/authorizer.log" setpriv --reuid=www-data --regid=www-data --init-groups -- \
    /usr/sbin/access-limiter --settings "$SETTINGS" --fastcgi "127.0.0.1:$AUTHZ_PORT" --workers 2
  ok $? "the packaged authorizer starts, as www-data" || cat "$WORK/authorizer.log"
  key_number=0
  for location in "$FPM_PATH/hello.php=hello from PHP-FPM" "$APP_PATH/=hello from the app"; do
    wait_for_fresh_second
    answers=""
    key_number=$((key_number + 1))
    for _ in 1 2 3 4; do
      http GET "http://127.0.0.1${location%%=*}?app_id=located-$key_number"
      answers="$answers$(status) $(body);"
    done
    welcome="200 ${location#*=};"
    is "$answers" "$welcome$welcome$welcome"'429 {"message":"Too Many Requests"};' \
      "${location%%=*}: the app answers until ACCESS_LIMIT=3, then the limiter's 429"
  done
  is "$(header Content-Type) $(header RateLimit-Policy)" 'application/json; charset=utf-8 "default";q=3;w=1' \
    "the 429 is JSON, with the deployed limit's RateLimit-Policy"
  http GET "http://127.0.0.1$FPM_PATH/hello.php"
  is "$(status) $(body)" '401 {"message":"Unauthorized","detail":"no app_id was given: the request must carry a key"}' \
    "no key: the limiter's 401"
  "$DEPLOY" --local --set ACCESS_LIMIT=3 --set "ACCESS_ROOT=$ROOT" \
    --protect-location "$FPM_PATH/" --protect-location "$APP_PATH/" >"$WORK/locations-again.log" 2>&1
  ok $? "deploying the same locations again exits 0"
  like "$(cat "$WORK/locations-again.log")" 'nothing changed; Apache not reloaded' "and changes nothing"
  like "$(cat "$WORK/locations-again.log")" "--fastcgi 127.0.0.1:$AUTHZ_PORT " "its advice names the authorizer's address from the settings"
  before=$(snapshot)
  for bad in "/a/../b" "api/" "/a b" "/a*" "/access-limiter-unavailable"; do
    "$DEPLOY" --local --protect-location "$bad" >"$WORK/location-bad.log" 2>&1
    is "$? $(cut -d: -f1,2 "$WORK/location-bad.log")" "1 deploy: --protect-location $bad" "--protect-location '$bad' is refused, naming it"
  done
  is "$(snapshot)" "$before" "before any change"
  # The whole site: everything passes the authorizer but the limiter's own
  # URLs (the health check carries no key; the endpoint counts for itself).
  "$DEPLOY" --local --set ACCESS_LIMIT=3 --set "ACCESS_ROOT=$ROOT" --protect-location / >"$WORK/root-location.log" 2>&1
  ok $? "deploy --protect-location / exits 0" || cat "$WORK/root-location.log"
  http GET "http://127.0.0.1/"
  is "$(status) $(header Content-Type)" "401 application/json; charset=utf-8" "/ without a key: the authorizer's 401"
  http GET "http://127.0.0.1/cgi-bin/access-health"
  is "$(status) $(body)" '200 {"status":"ok"}' "the health check is not behind it"
  wait_for_fresh_second
  http GET "$URL?app_id=counted-once"
  is "$(status) $(header RateLimit)" '200 "default";r=2;t=1' "the endpoint counts a request once, not twice"
  stop_authorizers
  http GET "http://127.0.0.1/anything?app_id=x"
  is "$(status) $(body)" '503 {"message":"Service Unavailable"}' "the authorizer down: the 503 JSON answer stays reachable"
  sed -i '/^Define ACCESS_AUTHORIZER /d' "$SETTINGS"
else
  skip "php-fpm is not installed (apt-get install php-fpm): deploy --protect-location was NOT tested"
fi

# A broken config elsewhere: the check fails and everything is rolled back,
# the package to the version installed before.
settings_before=$(md5sum <"$SETTINGS")
(cd "$BUILD_DIR" && cpack -D CPACK_DEBIAN_PACKAGE_RELEASE=78 -B "$WORK/rebuilt" >"$WORK/cpack.log" 2>&1)
REBUILT=$(ls "$WORK"/rebuilt/access-limiter_*.deb)
echo "ThisIsNotAnApacheDirective on" >"$BROKEN"
"$DEPLOY" --local --package "$REBUILT" --set ACCESS_LIMIT=4 --set "ACCESS_ROOT=$ROOT" >"$WORK/broken.log" 2>&1
is "$?" 1 "deploy fails when apache2ctl -t fails"
like "$(cat "$WORK/broken.log")" 'rolled back' "it says it rolled back"
is "$(dpkg-query -W -f='${Version}' access-limiter)" "$VERSION" "the version installed before is back"
is "$(md5sum <"$SETTINGS")" "$settings_before" "the previous settings are back in place"
rm -f "$BROKEN"
apache2ctl graceful >/dev/null 2>&1
http GET "$URL?app_id=after-rollback"
is "$(status) $(header RateLimit-Policy)" '200 "default";q=3;w=1' "Apache still serves the previous settings"
"$DEPLOY" --local --package "$REBUILT" >"$WORK/upgrade.log" 2>&1
ok $? "deploy --package installs a rebuilt version" || cat "$WORK/upgrade.log"
like "$(cat "$WORK/upgrade.log")" "installed: access-limiter ${VERSION%-*}-78 \(was $VERSION\)" "it says which version it replaced"
http GET "$URL?app_id=after-upgrade"
is "$(status) $(header RateLimit-Policy)" '200 "default";q=3;w=1' "the settings survived the upgrade"
"$DEPLOY" --local --package "$DEB" >/dev/null 2>&1

# What apache2ctl -t cannot see is checked too: a value the programs refuse,
# before any change; a store www-data cannot write, and rolled back. A bad
# path is refused first.
before=$(snapshot)
"$DEPLOY" --local --set ACCESS_LIMIT=abc >"$WORK/bad-value.log" 2>&1
rc=$?
is "$rc" 1 "a value the programs refuse fails the deploy"
like "$(cat "$WORK/bad-value.log")" 'the settings are not valid: access-limiter: ACCESS_LIMIT="abc"' "naming it"
is "$(snapshot)" "$before" "before any change"
http GET "$URL?app_id=after-bad-value"
is "$(status) $(header RateLimit-Policy)" '200 "default";q=3;w=1' "Apache serves the previous settings"
mkdir -p "$WORK/roots-only"
"$DEPLOY" --local --set "ACCESS_ROOT=$WORK/roots-only" >"$WORK/bad-root.log" 2>&1
is "$?" 1 "a store www-data cannot write fails the deploy"
like "$(cat "$WORK/bad-root.log")" "ACCESS_ROOT $WORK/roots-only is not a directory www-data can write" "naming it"
like "$(grep -v '^#' "$SETTINGS")" "Define ACCESS_ROOT $ROOT"$'\n' "and the settings are rolled back"
before=$(snapshot)
"$DEPLOY" --local --set ACCESS_ROOT=relative/store >"$WORK/relative.log" 2>&1
is "$? $(cat "$WORK/relative.log")" "1 deploy: --set ACCESS_ROOT=relative/store: give an absolute path" "a relative ACCESS_ROOT is refused"
is "$(snapshot)" "$before" "before any change"
# A store on a volume that is in /etc/fstab but not mounted: deploy would
# make it on the local disk, where this node would count alone.
mkdir -p "$WORK/volume"
echo "$FSTAB_MARK" >>/etc/fstab
echo "localhost:/access $WORK/volume glusterfs defaults,_netdev 0 0 $FSTAB_MARK" >>/etc/fstab
"$DEPLOY" --local --set "ACCESS_ROOT=$WORK/volume/access" >"$WORK/unmounted.log" 2>&1
is "$? $(cat "$WORK/unmounted.log")" "1 deploy: ACCESS_ROOT $WORK/volume/access is on $WORK/volume (in /etc/fstab), which is not mounted: mount it first" \
  "a store on an unmounted volume is refused"
ok "$([ ! -e "$WORK/volume/access" ]; echo $?)" "and not made on the local disk"
sed -i "/$FSTAB_MARK/d" /etc/fstab

"$DEPLOY" --local --remove >"$WORK/remove.log" 2>&1
ok $? "deploy --remove exits 0" || cat "$WORK/remove.log"
is "$(dpkg-query -W -f='${db:Status-Abbrev}' access-limiter)" "rc " "--remove removes the package (apt-get remove: its settings stay)"
ok "$([ ! -e /usr/lib/cgi-bin/access-limiter ] && [ ! -e /etc/apache2/conf-enabled/access-limiter.conf ] && [ -f "$SETTINGS" ]; echo $?)" "--remove takes the programs away, disables the conf, keeps the settings"
ok "$([ ! -e /etc/apache2/conf-available/access-limiter-guard.conf ] && [ ! -e /etc/apache2/conf-enabled/access-limiter-guard.conf ]; echo $?)" "--remove takes the guard conf away"
ok "$([ ! -e /etc/apache2/conf-available/access-limiter-locations.conf ] && [ ! -e /etc/apache2/conf-enabled/access-limiter-locations.conf ]; echo $?)" "and the locations conf"
http GET "$URL?app_id=removed"
is "$(status)" 404 "Apache no longer serves the limiter"
"$DEPLOY" --local --set "ACCESS_ROOT=$ROOT" --no-collector >"$WORK/no-collector.log" 2>&1
rc=$?
ok "$([ $rc -eq 0 ] && [ ! -e "$TIMER_LINK" ]; echo $?)" "--no-collector deploys with the timer disabled"
like "$(cat "$WORK/no-collector.log")" 'collector: none here' "and says so"
"$DEPLOY" --local --remove >/dev/null 2>&1

# A build that fails deploys nothing, not the package an earlier build left.
STALE_BUILD="$WORK/stale-build"
mkdir -p "$STALE_BUILD" && touch "$STALE_BUILD/access-limiter_9.9.9-1_amd64.deb"
printf 'CMAKE_HOME_DIRECTORY:INTERNAL=/elsewhere\n' >"$STALE_BUILD/CMakeCache.txt"
ACCESS_BUILD_DIR=$STALE_BUILD "$DEPLOY" --local --dry-run >"$WORK/stale.log" 2>&1
rc=$?
ok "$([ $rc -eq 1 ] && ! grep -q '9.9.9' "$WORK/stale.log"; echo $?)" "a failed build stops deploy (exit $rc), and the stale package is not offered"
like "$(cat "$WORK/stale.log")" 'building the package failed' "it says the build failed"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q access-limiter >/dev/null 2>&1

# --inventory takes the cluster inventory; the list of "[user@]host" lines
# deploy read before is refused, saying what to write instead.
printf 'root@127.0.0.1\n' >"$WORK/old-nodes"
before=$(snapshot)
"$DEPLOY" --inventory "$WORK/old-nodes" --dry-run >"$WORK/old-nodes.log" 2>&1
like "$? $(cat "$WORK/old-nodes.log")" "^1 deploy: $WORK/old-nodes line 1: root@127.0.0.1 alone is not a setting: list each web node as \"web NAME ADDRESS\"" \
  "an old node list is refused, naming the line to write instead"
is "$(snapshot)" "$before" "before any change"

# The inventory path: a real sshd on loopback stands in for a web node, with
# a host key and an authorized key made here; the node is this machine.
if command -v /usr/sbin/sshd >/dev/null && command -v ssh >/dev/null; then
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/client_key" && ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
  install -m 0600 "$WORK/client_key.pub" "$WORK/authorized_keys"
  mkdir -p /run/sshd
  SSH_PORT=$((22000 + $$ % 1000))
  /usr/sbin/sshd -p "$SSH_PORT" -o ListenAddress=127.0.0.1 -o HostKey="$WORK/host_key" \
    -o AuthorizedKeysFile="$WORK/authorized_keys" -o PidFile="$WORK/sshd.pid" -o UsePAM=no \
    -o PasswordAuthentication=no -o PermitRootLogin=prohibit-password -o StrictModes=no
  export ACCESS_DEPLOY_SSH_OPTIONS="-l root -p $SSH_PORT -i $WORK/client_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
  # The cluster inventory (scripts/examples/cluster.inventory): its web lines.
  printf '# web nodes\nweb web1 127.0.0.1   # this machine, over ssh\n' >"$WORK/nodes"
  read -r -a ssh_options <<<"$ACCESS_DEPLOY_SSH_OPTIONS"
  for _ in $(seq 50); do ssh "${ssh_options[@]}" root@127.0.0.1 true 2>/dev/null && break; sleep 0.1; done

  before=$(snapshot)
  "$DEPLOY" --inventory "$WORK/nodes" --dry-run --set ACCESS_LIMIT=5 >"$WORK/ssh-dry.log" 2>&1
  ok $? "deploy --inventory --dry-run over ssh exits 0"
  like "$(cat "$WORK/ssh-dry.log")" "would: apt-get install ./$(basename "$DEB")" "the node printed what it would do"
  is "$(snapshot)" "$before" "the dry run over ssh changed nothing"
  # Two nodes (this machine twice): only the first would get the collector.
  printf 'web web1 127.0.0.1\nweb web2 127.0.0.1\n' >"$WORK/two-nodes"
  "$DEPLOY" --inventory "$WORK/two-nodes" --dry-run >"$WORK/two-dry.log" 2>&1
  is "$(grep -c "would: systemctl enable -q access-limiter-gc.timer" "$WORK/two-dry.log")" 1 "of two nodes, only the first would collect"
  "$DEPLOY" --inventory "$WORK/nodes" --set ACCESS_LIMIT=5 --set "ACCESS_ROOT=$ROOT" >"$WORK/ssh.log" 2>&1
  ok $? "deploy --inventory over ssh exits 0"
  like "$(cat "$WORK/ssh.log")" '== web1: done' "the node reports done"
  ok "$([ -L "$TIMER_LINK" ]; echo $?)" "the first node of the inventory collects"
  is "$(dpkg-query -W -f='${Version}' access-limiter)" "$VERSION" "the node got the package through apt"
  http GET "$URL?app_id=over-ssh"
  is "$(status) $(header RateLimit-Policy)" '200 "default";q=5;w=1' "the Apache deployed into over ssh serves the new settings"
  ok "$([ -z "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'access-deploy.*' -newer "$WORK/nodes")" ]; echo $?)" "deploy --inventory leaves no bundle behind"
  # One cluster secret: the first node's, kept; never on a command line.
  secret_of_node() { sed -n 's/^Define ACCESS_KEY_SECRET \([0-9a-f]\{32\}\)$/\1/p' /etc/access-limiter/settings.conf; }
  secret=$(secret_of_node)
  like "$secret" '^[0-9a-f]{32}$' "the node has an ACCESS_KEY_SECRET"
  is "$(stat -c '%a %U %G' /etc/access-limiter/settings.conf)" "640 root www-data" "in settings only root and www-data can read"
  ok "$(! grep -q "$secret" "$WORK/ssh.log"; echo $?)" "the secret is not printed"
  "$DEPLOY" --inventory "$WORK/nodes" --set ACCESS_LIMIT=5 --set "ACCESS_ROOT=$ROOT" >"$WORK/ssh-again.log" 2>&1
  is "$? $(secret_of_node)" "0 $secret" "deploying again gives the nodes the first node's secret"
  echo 0123456789abcdef0123456789abcdef >"$WORK/cluster-secret"
  "$DEPLOY" --inventory "$WORK/nodes" --key-secret-file "$WORK/cluster-secret" --set ACCESS_LIMIT=5 \
    --set "ACCESS_ROOT=$ROOT" >"$WORK/ssh-secret.log" 2>&1
  is "$? $(secret_of_node)" "0 0123456789abcdef0123456789abcdef" "--key-secret-file gives every node that secret"
  like "$(runuser -u www-data -- /usr/lib/cgi-bin/access-limiter --settings /etc/access-limiter/settings.conf --check-config)" \
    'ACCESS_KEY_SECRET=set \(fingerprint [0-9a-f]{8}\)' "and the programs read it (www-data can)"
  "$DEPLOY" --inventory "$WORK/nodes" --remove >"$WORK/ssh-remove.log" 2>&1
  ok $? "deploy --inventory --remove exits 0"
  ok "$([ ! -e /usr/lib/cgi-bin/access-limiter ]; echo $?)" "deploy --inventory --remove uninstalls over ssh"
  is "$(dpkg-query -W -f='${db:Status-Abbrev}' access-limiter)" "rc " "with apt-get remove"
else
  skip "no sshd/ssh here: the ssh path of deploy --inventory was NOT tested"
fi

done_testing
