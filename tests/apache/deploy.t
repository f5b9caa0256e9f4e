#!/usr/bin/env bash
# scripts/deploy --local into this machine's own Apache (Debian layout), then
# requests to the Apache it deployed into. Restores the machine's Apache as
# it found it, whatever happens.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  skip "scripts/deploy --local needs root; this run is not root"
  done_testing
  exit
fi

DEPLOY="$PROJECT_ROOT/scripts/deploy"
chmod 0755 "$WORK"
ROOT="$WORK/deployed-root"
URL="http://127.0.0.1/cgi-bin/access-limiter"
BROKEN=/etc/apache2/conf-enabled/zz-access-limiter-test-broken.conf
# A CGI application under the default site's DocumentRoot, to protect.
APP_DIR=/var/www/html/access-limiter-test-api-$$
APP_URL="http://127.0.0.1/access-limiter-test-api-$$"
apache_pid() { cat /var/run/apache2/apache2.pid 2>/dev/null; }
was_running=no
[ -n "$(apache_pid)" ] && kill -0 "$(apache_pid)" 2>/dev/null && was_running=yes
mods_before=$(ls /etc/apache2/mods-enabled)
restore() {
  [ -f "$WORK/sshd.pid" ] && kill "$(cat "$WORK/sshd.pid")" 2>/dev/null
  rm -f "$BROKEN"
  "$DEPLOY" --local --remove >/dev/null 2>&1
  rm -rf "$APP_DIR"
  for module in cgid headers env actions; do
    if ! grep -qx "$module.load" <<<"$mods_before" && [ -e "/etc/apache2/mods-enabled/$module.load" ]; then
      a2dismod -q -f "$module" >/dev/null
    fi
  done
  if [ "$was_running" = no ]; then
    local pid i
    pid=$(apache_pid)
    apache2ctl stop >/dev/null 2>&1
    for ((i = 0; i < 100; i++)); do
      if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then break; fi
      sleep 0.1
    done
  else
    apache2ctl graceful >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap restore EXIT
snapshot() { find /etc/apache2 /usr/lib/cgi-bin /etc/cron.d -printf '%p %s %T@\n' 2>/dev/null | sort | md5sum; }
CRON=/etc/cron.d/access-limiter
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
  runuser -u "$user" -- env -i PATH=/usr/bin:/bin "${env_lines[@]}" /bin/sh -c "$command"
}

before=$(snapshot)
"$DEPLOY" --local --dry-run --set ACCESS_LIMIT=3 --set "ACCESS_ROOT=$ROOT" >"$WORK/dry.log" 2>&1
ok $? "dry run exits 0"
like "$(cat "$WORK/dry.log")" 'would: mv -f /usr/lib/cgi-bin/.access-limiter.new /usr/lib/cgi-bin/access-limiter' "dry run says it would rename the program into place"
like "$(cat "$WORK/dry.log")" 'would: apache2ctl -t, then apache2ctl graceful' "dry run says it would check, then reload"
is "$(snapshot)" "$before" "dry run changed nothing on disk"

"$DEPLOY" --local --set ACCESS_LIMIT=3 --set "ACCESS_ROOT=$ROOT" >"$WORK/deploy.log" 2>&1
ok $? "deploy --local exits 0"
like "$(cat "$WORK/deploy.log")" 'installed: /etc/apache2/conf-available/access-limiter.conf' "the conf was installed"
ok "$([ -L /etc/apache2/conf-enabled/access-limiter.conf ]; echo $?)" "the conf is enabled (a2enconf)"
like "$(apache2ctl -M 2>/dev/null | tr '\n' ' ')" 'cgid_module.*headers_module' "mod_cgid and mod_headers are enabled"
ok "$([ -z "$(find /usr/lib/cgi-bin /etc/apache2/conf-available -name '.*.new' -o -name '.*.prev')" ]; echo $?)" "no temporary or backup files are left"

wait_for_fresh_second
for _ in 1 2 3 4; do http GET "$URL?app_id=deployed"; done
is "$(status)" 429 "the deployed Apache limits: the 4th request in a second with ACCESS_LIMIT=3 is 429"
is "$(header RateLimit-Policy)" '"default";q=3;w=1' "the --set ACCESS_LIMIT reached the CGI"
ok "$([ -d "$ROOT/deployed" ]; echo $?)" "the --set ACCESS_ROOT reached the CGI"
http GET "http://127.0.0.1/cgi-bin/access-health"
is "$(status) $(body)" '200 {"status":"ok"}' "the deployed health check answers 200"

# The collector: requests never remove counters, the cron job does.
like "$(cat "$WORK/deploy.log")" "collector: $CRON runs access-limiter --gc every minute" "deploy says it installed the collector"
is "$(stat -c '%U %a' "$CRON" 2>&1)" "root 644" "the cron file is root's and writable by no one else (cron ignores it otherwise)"
like "$(cat "$CRON")" "^ACCESS_ROOT=$ROOT\$" "the cron job collects the deployed ACCESS_ROOT"
install -d -o www-data -g www-data "$ROOT/gone-idle" && runuser -u www-data -- touch "$ROOT/gone-idle/1000000000-0"
run_cron_job "$CRON" 2>"$WORK/cron.err"
is "$? $(cat "$WORK/cron.err")" "0 " "the cron job runs as cron would run it, and says nothing"
ok "$([ ! -e "$ROOT/gone-idle" ] && [ -d "$ROOT/deployed" ]; echo $?)" "it removed the past window and its idle key, and kept the current one"

"$DEPLOY" --local --set ACCESS_LIMIT=3 --set "ACCESS_ROOT=$ROOT" >"$WORK/again.log" 2>&1
ok $? "deploying again exits 0"
like "$(cat "$WORK/again.log")" 'nothing changed; Apache not reloaded' "deploying the same again changes nothing"

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
"$DEPLOY" --local --protect /no/such/dir >"$WORK/protect-bad.log" 2>&1
is "$? $(cat "$WORK/protect-bad.log")" "1 deploy: --protect /no/such/dir: no such directory" "a missing directory is refused before any change"

# A broken config elsewhere: the check fails and everything is rolled back.
conf_before=$(md5sum </etc/apache2/conf-available/access-limiter.conf)
echo "ThisIsNotAnApacheDirective on" >"$BROKEN"
"$DEPLOY" --local --set ACCESS_LIMIT=4 --set "ACCESS_ROOT=$ROOT" >"$WORK/broken.log" 2>&1
is "$?" 1 "deploy fails when apache2ctl -t fails"
like "$(cat "$WORK/broken.log")" 'rolled back' "it says it rolled back"
is "$(md5sum </etc/apache2/conf-available/access-limiter.conf)" "$conf_before" "the previous conf is back in place"
rm -f "$BROKEN"
http GET "$URL?app_id=after-rollback"
is "$(header RateLimit-Policy)" '"default";q=3;w=1' "Apache still serves the previous settings"

"$DEPLOY" --local --remove >"$WORK/remove.log" 2>&1
ok $? "deploy --remove exits 0"
ok "$([ ! -e /usr/lib/cgi-bin/access-limiter ] && [ ! -e /etc/apache2/conf-available/access-limiter.conf ]; echo $?)" "--remove takes the programs and the conf away"
ok "$([ ! -e /etc/apache2/conf-available/access-limiter-guard.conf ] && [ ! -e /etc/apache2/conf-enabled/access-limiter-guard.conf ]; echo $?)" "--remove takes the guard conf away"
ok "$([ ! -e "$CRON" ]; echo $?)" "--remove takes the collector away"
"$DEPLOY" --local --set "ACCESS_ROOT=$ROOT" --no-collector >"$WORK/no-collector.log" 2>&1
ok "$([ $? -eq 0 ] && [ ! -e "$CRON" ]; echo $?)" "--no-collector deploys without a collector"
"$DEPLOY" --local --remove >/dev/null 2>&1

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
  export ACCESS_DEPLOY_SSH_OPTIONS="-p $SSH_PORT -i $WORK/client_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
  printf '# web nodes\nroot@127.0.0.1   # this machine, over ssh\n' >"$WORK/nodes"
  read -r -a ssh_options <<<"$ACCESS_DEPLOY_SSH_OPTIONS"
  for _ in $(seq 50); do ssh "${ssh_options[@]}" root@127.0.0.1 true 2>/dev/null && break; sleep 0.1; done

  before=$(snapshot)
  "$DEPLOY" --inventory "$WORK/nodes" --dry-run --set ACCESS_LIMIT=5 >"$WORK/ssh-dry.log" 2>&1
  ok $? "deploy --inventory --dry-run over ssh exits 0"
  like "$(cat "$WORK/ssh-dry.log")" 'would: mv -f /usr/lib/cgi-bin/.access-limiter.new /usr/lib/cgi-bin/access-limiter' "the node printed what it would do"
  is "$(snapshot)" "$before" "the dry run over ssh changed nothing"
  # Two nodes (this machine twice): only the first would get the collector.
  printf 'root@127.0.0.1\nroot@127.0.0.1\n' >"$WORK/two-nodes"
  "$DEPLOY" --inventory "$WORK/two-nodes" --dry-run >"$WORK/two-dry.log" 2>&1
  is "$(grep -c "would: mv -f /etc/cron.d/.access-limiter.new $CRON" "$WORK/two-dry.log")" 1 "of two nodes, only the first would get the collector"
  "$DEPLOY" --inventory "$WORK/nodes" --set ACCESS_LIMIT=5 --set "ACCESS_ROOT=$ROOT" >"$WORK/ssh.log" 2>&1
  ok $? "deploy --inventory over ssh exits 0"
  like "$(cat "$WORK/ssh.log")" '== root@127.0.0.1: done' "the node reports done"
  ok "$([ -f "$CRON" ]; echo $?)" "the first node of the inventory got the collector"
  http GET "$URL?app_id=over-ssh"
  is "$(status) $(header RateLimit-Policy)" '200 "default";q=5;w=1' "the Apache deployed into over ssh serves the new settings"
  ok "$([ -z "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'access-deploy.*' -newer "$WORK/nodes")" ]; echo $?)" "deploy --inventory leaves no bundle behind"
  "$DEPLOY" --inventory "$WORK/nodes" --remove >"$WORK/ssh-remove.log" 2>&1
  ok $? "deploy --inventory --remove exits 0"
  ok "$([ ! -e /usr/lib/cgi-bin/access-limiter ]; echo $?)" "deploy --inventory --remove uninstalls over ssh"
else
  skip "no sshd/ssh here: the ssh path of deploy --inventory was NOT tested"
fi

done_testing
