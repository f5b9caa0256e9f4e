#!/usr/bin/env bash
# One limit across web nodes: a real replica-3 GlusterFS volume built by
# scripts/gluster-setup, mounted twice (two "web nodes"), with access-limiter
# deciding on both mounts at once. Then bricks fail and heal. The volume,
# mounts, daemons and host aliases made here are removed whatever happens.
. "$(dirname "$0")/../lib.sh"

. "$PROJECT_ROOT/scripts/lib/loopback-volume.sh"
if ! loopback_volume_usable; then
  skip "needs root, /dev/fuse and glusterfs-server; GlusterFS was NOT tested on this machine"
  done_testing
  exit
fi

SETUP="$PROJECT_ROOT/scripts/gluster-setup"
VOLUME="accesstest$$"
NODES=("${LOOPBACK_NODES[@]}")
MOUNTS=("$WORK/node1" "$WORK/node2" "$WORK/node3")
# loopback_volume_remove also continues stopped bricks and unmounts.
trap 'stop_authorizers; loopback_volume_remove; rm -rf "$WORK"' EXIT

loopback_volume_create "$WORK" "$VOLUME"
ok $? "gluster-setup --create builds and starts the volume"
ok "$(gluster --mode=script peer status >/dev/null 2>&1; echo $?)" "glusterd answers"
like "$(gluster --mode=script volume info "$VOLUME")" 'Number of Bricks: 1 x 3 = 3' "the volume is replica 3"
like "$(gluster --mode=script volume get "$VOLUME" performance.stat-prefetch)" 'performance.stat-prefetch +off' "stat-prefetch is off"
"$SETUP" --inventory "$WORK/inventory" --create --force >"$WORK/create-again.log" 2>&1
like "$(cat "$WORK/create-again.log")" "volume $VOLUME exists" "gluster-setup --create again skips what is done"

for i in 0 1; do
  loopback_volume_mount "${NODES[i]}" "${MOUNTS[i]}"
  ok $? "gluster-setup --mount ${NODES[i]} mounts the volume on ${MOUNTS[i]}"
done
like "$(cat "$WORK/fstab")" "^${NODES[0]}:/$VOLUME $WORK/node1 glusterfs defaults,_netdev,entry-timeout=0,attribute-timeout=0,negative-timeout=0,backup-volfile-servers=" "the fstab line has the cache-free mount options"
touch "${MOUNTS[0]}/access/seen-from-node1"
ok "$([ -e "${MOUNTS[1]}/access/seen-from-node1" ]; echo $?)" "a file made through one mount is seen through the other"
rm -f "${MOUNTS[0]}/access/seen-from-node1"

# burst SECOND COUNT KEY [VAR=value...] : COUNT test-build processes, split
# across the mounts in BURST_MOUNTS, pinned to one second, with ACCESS_LIMIT
# $BURST_LIMIT (10 unless set); prints how many were admitted.
BURST_MOUNTS=("${MOUNTS[0]}" "${MOUNTS[1]}")
burst() {
  local second=$1 count=$2 key=$3 i
  shift 3
  : >"$WORK/results"
  for ((i = 0; i < count; i++)); do
    env "$@" ACCESS_ROOT="${BURST_MOUNTS[i % ${#BURST_MOUNTS[@]}]}/access" ACCESS_LIMIT="${BURST_LIMIT:-10}" ACCESS_TEST_NOW="$second" \
      QUERY_STRING="app_id=$key" "$TESTABLE" 2>>"$WORK/burst.err" | head -n 1 >>"$WORK/results" &
  done
  wait
  grep -c '^Status: 200' "$WORK/results"
}

for second in 1700000000 1700000001 1700000002; do
  is "$(burst $second 40 shared)" 10 "40 processes on two mounts in second $second: exactly 10 admitted"
done
is "$(find "$WORK"/brick1/access/shared -type f | wc -l)" 30 "requests collect nothing: each brick holds the three windows, 10 slots each"
ACCESS_ROOT="${MOUNTS[1]}/access" ACCESS_TEST_NOW=1700000002 "$TESTABLE" --gc >/dev/null; rc=$?
is "$rc" 0 "--gc on one node's mount exits 0"
is "$(find "$WORK"/brick1/access/shared -type f -printf '%f\n' | cut -d- -f1 | sort -u | tr '\n' ' ')" \
  "1700000001 1700000002 " "--gc left the last two windows on every brick"

# A burst limit and an hour's quota together (ACCESS_LIMIT=6/1s,15/1h), 40
# processes a second on both mounts, --gc running all along on node 2 at
# the bursts' second. Never over either limit, and the volume holds exactly
# the admissions. Ideally 6, 6, 3, 0; a request that claimed the hour and
# then lost the second gives its hour slot back, and the hole it leaves
# may be counted past (docs/quotas.md): one short was seen once in four
# runs, so fewer is allowed, down to 12 of 15, and printed.
echo 1700000010 >"$WORK/gc-now"
(while gc_now=$(cat "$WORK/gc-now" 2>/dev/null); do
  ACCESS_ROOT="${MOUNTS[1]}/access" ACCESS_TEST_NOW="$gc_now" "$TESTABLE" --gc >/dev/null 2>&1
  sleep 0.05
done) &
collector=$!
quota_counts=""
quota_total=0
quota_over=""
for second in 1700000010 1700000011 1700000012 1700000013; do
  echo "$second" >"$WORK/gc-now.new" && mv "$WORK/gc-now.new" "$WORK/gc-now"  # never seen empty
  admitted=$(BURST_LIMIT=6/1s,15/1h burst $second 40 quota)
  quota_counts="$quota_counts$admitted "
  quota_total=$((quota_total + admitted))
  [ "$admitted" -le 6 ] || quota_over="$quota_over $second"
done
rm -f "$WORK/gc-now"
wait "$collector"
echo "# a burst and an hour's quota, admitted per second: $quota_counts(ideally 6 6 3 0)"
is "$quota_over" "" "a burst and an hour's quota across two mounts, --gc running: no second over 6"
ok "$([ "$quota_total" -le 15 ] && [ "$quota_total" -ge 12 ]; echo $?)" \
  "the hour: $quota_total admitted, never over 15 (and at least 12)"
is "$(find "$WORK"/brick1/access/quota -type f -name '1699999200+3600-*' | wc -l)" "$quota_total" \
  "each brick's hour holds exactly the admissions (--gc keeps a live hour)"
is "$(find "$WORK"/brick1/access/quota -type f -name '1700000013-*' | wc -l)" "$admitted" \
  "the last second (the hour spent) holds exactly its $admitted admissions: the 40 - $admitted the hour refused are counted in neither"
rm -rf "${MOUNTS[0]}/access/quota"  # root's: the store's owner below could not read it

# Policies live on the volume: a key registered through one node holds on
# both. (--key add runs as the store's owner, www-data here.)
as_owner() { runuser -u www-data -- env ACCESS_NODE_CACHE=off "$@"; }
chmod 0755 "$WORK"
as_owner env ACCESS_ROOT="${MOUNTS[0]}/access" "$LIMITER" --key add gold --limit 4 >/dev/null &&
  as_owner env ACCESS_ROOT="${MOUNTS[1]}/access" "$LIMITER" --key add member >/dev/null
ok $? "keys registered through each node"
is "$(as_owner env ACCESS_ROOT="${MOUNTS[1]}/access" "$LIMITER" --key list | tr '\n' ' ')" "gold limit=4 member limit=default " \
  "each node lists the keys registered through the other"
is "$(burst 1700000005 40 gold)" 4 "a key's own limit (4), registered on node 1, holds across both mounts: 4 of 40"
is "$(burst 1700000006 40 stranger ACCESS_KNOWN_KEYS_ONLY=1)" 0 "known keys only: an unregistered key, 0 of 40 on both mounts"
is "$(sort -u "$WORK/results" | tr -d '\r' | tr '\n' ' ')" "Status: 401 Unauthorized " "every answer is 401"
ok "$([ ! -e "${MOUNTS[0]}/access/stranger" ]; echo $?)" "and nothing was written to the volume for it"
is "$(burst 1700000007 40 member ACCESS_KNOWN_KEYS_ONLY=1)" 10 "a key registered through node 2 is admitted and counted on both: 10 of 40"
# A credential from a header, registered by its raw value through node 1:
# both nodes hash it alike under the cluster's secret, and no brick holds it.
header_key=(ACCESS_KEY=header:X-Api-Key ACCESS_KEY_SECRET=00112233445566778899aabbccddeeff)
as_owner env ACCESS_ROOT="${MOUNTS[0]}/access" "${header_key[@]}" "$LIMITER" --key add 'sk-gold/1==' --limit 3 >/dev/null
ok $? "a header credential registered through node 1"
is "$(burst 1700000008 40 unused "${header_key[@]}" HTTP_X_API_KEY='sk-gold/1==')" 3 \
  "its policy (3) holds on both mounts: 3 of 40"
is "$(find "$WORK"/brick* -name '*sk-gold*' | wc -l)" 0 "the credential itself is on no brick"

# What the limiter needs from the volume, measured: the same bursts with the
# client caches at GlusterFS's defaults (the options reset, and a third mount
# with the kernel's default entry and attribute timeouts). Creating with
# O_EXCL is decided by the bricks, so this must never over-admit; stale
# caches could only make it refuse, or list collected windows.
for option in performance.stat-prefetch performance.quick-read performance.open-behind \
  performance.io-cache performance.readdir-ahead network.ping-timeout; do
  gluster --mode=script volume reset "$VOLUME" "$option" >/dev/null
done
mkdir -p "${MOUNTS[2]}"
mount -t glusterfs "${NODES[2]}:/$VOLUME" "${MOUNTS[2]}" && LOOPBACK_MOUNTS+=("${MOUNTS[2]}")
sleep 1
BURST_MOUNTS=("${MOUNTS[0]}" "${MOUNTS[2]}")
defaults=""
for second in 1700000100 1700000101 1700000102; do
  defaults="$defaults$(burst $second 40 defaults) "
done
echo "# caches at GlusterFS defaults, 40 processes per second on two mounts: admitted per second: $defaults"
is "$defaults" "10 10 10 " "with the caches at their defaults it is still exact (the bricks decide O_EXCL)"
if [ -x "$BUILD_DIR/bench/exec-timer" ]; then
  line=$(ACCESS_ROOT="${MOUNTS[2]}/access" "$BUILD_DIR/bench/exec-timer" --keys 50 300 "$BUILD_DIR/bench/floor-cgi" "$LIMITER" | tail -n 1)
  echo "# latency on a mount with GlusterFS's default caches: ${line#* }"
fi
"$SETUP" --inventory "$WORK/inventory" --create --force >/dev/null 2>&1
like "$(gluster --mode=script volume get "$VOLUME" performance.stat-prefetch)" 'performance.stat-prefetch +off' "gluster-setup --create puts the options back"
umount "${MOUNTS[2]}"
BURST_MOUNTS=("${MOUNTS[0]}" "${MOUNTS[1]}")

# The production binary on the wall clock, from both mounts at once.
wait_for_fresh_second
: >"$WORK/results"
for i in $(seq 30); do
  ACCESS_ROOT="${MOUNTS[i % 2]}/access" QUERY_STRING=app_id=wall "$LIMITER" | head -n 1 >>"$WORK/results" &
done
wait
per_window=$(find "${MOUNTS[0]}/access/wall" -type f -printf '%f\n' | cut -d- -f1 | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')
admitted=$(grep -c '^Status: 200' "$WORK/results")
echo "# wall clock, 30 processes on two mounts: $admitted admitted; per window: $per_window"
over=$(for n in $per_window; do [ "$n" -gt 10 ] && echo "$n"; done)
is "$over" "" "wall clock: no window admitted more than 10 across both mounts"
is "$admitted" "$(find "${MOUNTS[0]}/access/wall" -type f | wc -l)" "wall clock: every 200 is one slot on the volume"

# Decision latency on the volume, side by side with a local directory.
if [ -x "$BUILD_DIR/bench/exec-timer" ]; then
  mkdir -p "$WORK/local"
  gluster_line=$(ACCESS_ROOT="${MOUNTS[0]}/access" "$BUILD_DIR/bench/exec-timer" --keys 50 300 "$BUILD_DIR/bench/floor-cgi" "$LIMITER" | tail -n 1)
  local_line=$(ACCESS_ROOT="$WORK/local" "$BUILD_DIR/bench/exec-timer" --keys 50 300 "$BUILD_DIR/bench/floor-cgi" "$LIMITER" | tail -n 1)
  echo "# latency on the GlusterFS mount (caches off): ${gluster_line#* }"
  echo "# latency on a local directory:   ${local_line#* }"
fi

# One brick down: a majority (2 of 3) remains, the limiter keeps deciding.
brick_pid() { pgrep -f -- "--brick-name $WORK/brick$1( |\$)"; }
kill -KILL "$(brick_pid 3)"
sleep 1
ok "$([ -z "$(brick_pid 3)" ]; echo $?)" "brick 3 is down"
is "$(burst 1700000010 40 degraded)" 10 "one brick down: still exactly 10 of 40 admitted"

# Two bricks down: no quorum. The limiter must not admit: a clear 503.
kill -KILL "$(brick_pid 2)"
sleep 1
answers=$(burst 1700000020 10 noquorum | tr -d '\n')
is "$answers" 0 "quorum lost: nothing admitted"
is "$(sort -u "$WORK/results" | tr -d '\r' | tr '\n' ' ')" "Status: 503 Service Unavailable " "quorum lost: every answer is 503"
like "$(grep ' 503 ' "$WORK/burst.err" | sort -u | tail -n 3)" 'access-limiter: 503 Service Unavailable: (open|mkdir|stat|opendir|readlink)\(.*\): (Read-only file system|Transport endpoint is not connected)' "quorum lost: the log says why"
cgi "$HEALTH" ACCESS_ROOT="${MOUNTS[1]}/access"
is "$(status)" 503 "quorum lost: the health check answers 503, so the balancer drops the node"

# Bricks back, heal: the slots made while brick 3 was down reach it. Right
# after a kill, glusterd may still count the dead brick as running ("already
# running"), so "start force" is repeated until both are up.
for _ in $(seq 20); do
  gluster --mode=script volume start "$VOLUME" force >/dev/null 2>&1
  sleep 1
  [ -n "$(brick_pid 2)" ] && [ -n "$(brick_pid 3)" ] && break
done
ok "$([ -n "$(brick_pid 2)" ] && [ -n "$(brick_pid 3)" ]; echo $?)" "both bricks run again"
gluster --mode=script volume heal "$VOLUME" >/dev/null 2>&1
healed=no
for _ in $(seq 120); do
  pending=$(gluster --mode=script volume heal "$VOLUME" info 2>/dev/null | awk '/^Number of entries:/ {s += $4} END {print s + 0}')
  if [ "$pending" -eq 0 ] && [ -d "$WORK/brick3/access/degraded" ]; then healed=yes; break; fi
  sleep 0.5
done
is "$healed" yes "self-heal finishes after the bricks restart"
listing() { find "$WORK/brick$1/access/degraded" -type f -printf '%f\n' 2>/dev/null | sort | tr '\n' ' '; }
is "$(listing 3)" "$(listing 1)" "heal lost nothing: brick 3 now holds every slot made while it was down"
is "$(find "$WORK/brick1/access/degraded" -type f | wc -l)" 10 "and exactly the 10 admitted"
is "$(burst 1700000030 40 after-heal)" 10 "after heal: exactly 10 of 40 again"

# A volume that stops answering: every brick SIGSTOPped. A call on the mount
# then waits for network.ping-timeout (10 s as gluster-setup sets it), and a
# call the client daemon already took cannot be cut short. Each answer is
# complete (its output closed) at ACCESS_STORE_TIMEOUT all the same.
HUNG="$WORK/hung"  # beside the mounts, never on them: a look at them would hang too
mkdir -p "$HUNG"
# The persistent authorizer too: its workers stuck in the kernel are
# replaced, not waited for, and it keeps answering.
AUTHZ="127.0.0.1:$(free_port)"
ACCESS_ROOT="${MOUNTS[0]}/access" ACCESS_STORE_TIMEOUT=1 start_authorizer "$HUNG/authorizer.log" \
  "$LIMITER" --fastcgi "$AUTHZ" --workers 2
fcgi "$AUTHZ" QUERY_STRING=app_id=before-hang REQUEST_METHOD=GET
is "$(status)" 200 "the authorizer on the volume admits while it answers"
workers_before=$(workers_of "$AUTHORIZER_PID")
for brick in 1 2 3; do kill -STOP "$(brick_pid "$brick")"; done
started=$(date +%s%N)
# Four requests on two workers: two wait for a replacement.
for i in 1 2 3 4; do
  timeout 30 "$FCGI_CLIENT" "$AUTHZ" "QUERY_STRING=app_id=authz-hung$i" REQUEST_METHOD=GET |
    { tr -d '\r' >"$HUNG/authz$i.answer"; date +%s%N >"$HUNG/authz$i.done"; } &
done
for i in 1 2 3 4 5 6; do
  env ACCESS_ROOT="${MOUNTS[i % 2]}/access" ACCESS_STORE_TIMEOUT=1 QUERY_STRING="app_id=hung$i" \
    "$LIMITER" 2>"$HUNG/$i.err" | { cat >"$HUNG/$i.out"; date +%s%N >"$HUNG/$i.eof"; } &
done
ACCESS_ROOT="${MOUNTS[0]}/access" ACCESS_STORE_TIMEOUT=1 "$HEALTH" 2>/dev/null |
  { tr -d '\r' >"$HUNG/health.out"; date +%s%N >"$HUNG/health.eof"; } &
for _ in $(seq 150); do
  [ "$(find "$HUNG" -name '*.eof' | wc -l)" -eq 7 ] && [ "$(find "$HUNG" -name '*.done' | wc -l)" -eq 4 ] && break
  sleep 0.1
done
slowest_ms=0
for eof in "$HUNG"/*.eof; do
  ms=$((($(cat "$eof") - started) / 1000000))
  [ "$ms" -gt "$slowest_ms" ] && slowest_ms=$ms
done
answers=$(cat "$HUNG"/?.out | tr -d '\r' | grep -c '^{"message":"Service Unavailable"}$')
is "$answers" 6 "a hung volume: six decisions at once, six 503 JSON answers"
ok "$([ "$(find "$HUNG" -name '*.eof' | wc -l)" -eq 7 ] && [ "$slowest_ms" -lt 4000 ]; echo $?)" \
  "every answer complete at ACCESS_STORE_TIMEOUT=1, not at the ping-timeout (slowest: ${slowest_ms} ms)"
like "$(cat "$HUNG/1.err")" 'the store did not answer within 1 s \(ACCESS_STORE_TIMEOUT\)' "the log gives the cause"
like "$(cat "$HUNG/health.out")" '"reason":"ACCESS_ROOT did not answer within 1 s"' "the health check answers 503 and says why"
authz_slowest_ms=0
for done_file in "$HUNG"/authz*.done; do
  ms=$((($(cat "$done_file") - started) / 1000000))
  [ "$ms" -gt "$authz_slowest_ms" ] && authz_slowest_ms=$ms
done
is "$(cat "$HUNG"/authz?.answer | grep -c '^{"message":"Service Unavailable"}$')" 4 \
  "the authorizer: four requests on two stuck workers, four 503 JSON answers"
# A worker that gave its 503 is replaced at once: the second two finish
# before the stuck-worker ceiling (the store timeout + 5 s) would act.
ok "$([ "$(find "$HUNG" -name 'authz*.done' | wc -l)" -eq 4 ] && [ "$authz_slowest_ms" -lt 5000 ]; echo $?)" \
  "the last within a few ACCESS_STORE_TIMEOUTs, not at the ceiling or the ping-timeout (slowest: ${authz_slowest_ms} ms)"
ok "$(kill -0 "$AUTHORIZER_PID"; echo $?)" "the authorizer did not exit"
workers_during=$(workers_of "$AUTHORIZER_PID")
ok "$([ -n "$(comm -13 <(echo "$workers_before") <(echo "$workers_during"))" ]; echo $?)" \
  "stuck workers were replaced while the kernel still held them (new workers: $(echo "$workers_during" | tr '\n' ' '))"
like "$(cat "$HUNG/authorizer.log")" 'the store did not answer within 1 s \(ACCESS_STORE_TIMEOUT\)' "its log gives the cause"
echo "# processes still held by the kernel in a FUSE call: $(pgrep -c -f -- "$LIMITER|$HEALTH" || true)"
for brick in 1 2 3; do kill -CONT "$(brick_pid "$brick")"; done
# Every job but the authorizer, which serves on.
mapfile -t jobs_to_wait < <(jobs -p | grep -vx "$AUTHORIZER_PID")
wait ${jobs_to_wait[@]+"${jobs_to_wait[@]}"}
fcgi "$AUTHZ" QUERY_STRING=app_id=after-hang REQUEST_METHOD=GET
is "$(status)" 200 "once the volume answers, the authorizer admits again"
stop_authorizers
is "$(pgrep -c -f -- "$LIMITER|$HEALTH" || true)" 0 "once the volume answers, none of them is left"

done_testing
