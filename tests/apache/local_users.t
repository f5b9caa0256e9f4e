#!/usr/bin/env bash
# Another local user on a shared web node must not steer what the limiter
# keeps. scripts/run refuses a store (ACCESS_ROOT) or a state directory that
# another user made or could have planted things in, never follows a link
# when it creates or hands one over, and keeps the cluster secret and the
# counters from other users. A private Apache (scripts/run) is started only
# where a check expects it, and stopped whatever happens.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  skip "not root: stores and state directories of other users were NOT tested"
  done_testing
  exit $?
fi
private_apache 23000
run_limiter() { "$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" "$@" >"$WORK/run.log" 2>&1; }
install -d -m 0700 "$WORK/precious"
echo secret-data >"$WORK/precious/file"

# A store that is a link someone planted: refused, and its target untouched.
ln -s "$WORK/precious" "$WORK/link-root"
run_limiter --state-dir "$STATE" --access-root "$WORK/link-root"
like "$? $(cat "$WORK/run.log")" '^1 run: ACCESS_ROOT .*/link-root is a symbolic link: refused' "a store that is a link is refused"
is "$(stat -c %U "$WORK/precious" "$WORK/precious/file" | tr '\n' ' ')" "root root " "the link's target was not handed over"
ok "$(! apache_running_at "$STATE"; echo $?)" "and no Apache was started"

# A store another user made, with a policy planted in it: refused as it is.
install -d -m 0755 -o nobody "$WORK/their-root"
install -d -o nobody "$WORK/their-root/victim"
ln -s unlimited "$WORK/their-root/victim/.policy"
run_limiter --state-dir "$STATE" --access-root "$WORK/their-root"
like "$? $(cat "$WORK/run.log")" '^1 run: ACCESS_ROOT .*/their-root belongs to uid [0-9]+, not to www-data or root: refused' \
  "a store another user owns is refused"
is "$(stat -c %U "$WORK/their-root/victim")" nobody "and nothing in it was handed over"
install -d -m 0777 "$WORK/open-root"
run_limiter --state-dir "$STATE" --access-root "$WORK/open-root"
like "$? $(cat "$WORK/run.log")" '^1 run: ACCESS_ROOT .*/open-root is writable by others \(mode 777\): refused' \
  "a store others may write is refused"

# A store or state directory below a directory another user owns: they
# could swap it for their own after the check (a planted config is root's
# code, a planted store has their policies).
install -d -m 0755 -o nobody "$WORK/their-parent"
run_limiter --state-dir "$STATE" --access-root "$WORK/their-parent/store"
like "$? $(cat "$WORK/run.log")" '^1 run: ACCESS_ROOT .*/their-parent/store: .*/their-parent on the way belongs to uid [0-9]+' \
  "a store below another user's directory is refused"
run_limiter --state-dir "$WORK/their-parent/state" --access-root "$WORK/fresh-root"
like "$? $(cat "$WORK/run.log")" '^1 run: the state directory .*/their-parent/state: .*/their-parent on the way belongs to uid' \
  "a state directory below another user's directory is refused"
ln -s "$WORK/their-parent" "$WORK/root-link"
run_limiter --state-dir "$STATE" --access-root "$WORK/root-link/store"
like "$? $(cat "$WORK/run.log")" '^1 run: ACCESS_ROOT .*/root-link/store: .*/their-parent on the way belongs to uid [0-9]+' \
  "a link of root's on the way is followed, and what it leads through is checked"
ok "$([ ! -e "$WORK/their-parent/store" ] && [ ! -e "$WORK/their-parent/state" ]; echo $?)" "nothing was made below it"

# A state directory another user made: Apache would read its config as root.
install -d -m 0755 -o nobody "$WORK/their-state"
run_limiter --state-dir "$WORK/their-state" --access-root "$WORK/fresh-root"
like "$? $(cat "$WORK/run.log")" "^1 run: the state directory .*/their-state is not this user's own" "a state directory another user owns is refused"
"$PROJECT_ROOT/scripts/stop" --state-dir "$WORK/their-state" >"$WORK/stop.log" 2>&1
like "$? $(cat "$WORK/stop.log")" "^1 stop: the state directory .*/their-state is not this user's own" "scripts/stop refuses it too (it would signal the pids in it)"
ln -s "$WORK/precious" "$WORK/link-state"
run_limiter --state-dir "$WORK/link-state" --access-root "$WORK/fresh-root"
like "$? $(cat "$WORK/run.log")" '^1 run: the state directory .*/link-state is a link' "a state directory that is a link is refused"
ok "$([ ! -e "$WORK/fresh-root" ] && [ ! -e "$WORK/precious/httpd.conf" ]; echo $?)" "nothing was made by the refused runs"

# What a run makes: the store, the config and the secret, others' to read never.
install -d -m 0755 "$WORK/earlier-root/old-key"
ln -s "$WORK/precious/file" "$WORK/earlier-root/old-key/stray-link"
run_limiter --state-dir "$STATE" --access-root "$WORK/earlier-root"
ok $? "a store root made earlier is taken" || cat "$WORK/run.log"
is "$(stat -c '%U %a' "$WORK/earlier-root")" "www-data 700" "handed to www-data and closed to others (0700)"
is "$(stat -c %U "$WORK/earlier-root/old-key")" www-data "what was inside is handed over too"
is "$(stat -c %U "$WORK/precious/file")" root "but never what a link inside points to"
is "$(stat -c %a "$STATE/httpd.conf") $(stat -c %a "$STATE/key-secret")" "600 600" "the config and the secret it holds are root's alone"
like "$(cat "$STATE/key-secret")" '^[0-9a-f]{32}$' "a secret of 128 bits was made"
secret=$(cat "$STATE/key-secret")
http GET "$URL/cgi-bin/access-limiter?app_id=k1"
is "$(status)" 200 "it serves"
is "$(stat -c '%U %a' "$WORK/earlier-root/k1")" "www-data 700" "a key's directory is www-data's alone"
"$PROJECT_ROOT/scripts/stop" --state-dir "$STATE" >/dev/null
run_limiter --state-dir "$STATE" --access-root "$WORK/earlier-root"
is "$(cat "$STATE/key-secret")" "$secret" "a restart keeps the secret, so header keys keep their counters"

done_testing
