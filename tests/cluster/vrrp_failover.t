#!/usr/bin/env bash
# Hot standby: two keepalived instances, run from configs that scripts/lb-config
# generated, in two network namespaces joined by a veth pair. The VIP must
# move to the backup within seconds when the master dies, and the recovered
# node must not take it back (nopreempt).
#
# VRRP only: IPVS is not in this kernel, so keepalived runs with --vrrp and
# the virtual_server part (LVS-DR forwarding, HTTP_GET checks) is not tested.
. "$(dirname "$0")/../lib.sh"

echo "# NOTE: IPVS is not available in this kernel: keepalived runs with --vrrp (-P);"
echo "#       LVS-DR forwarding and the HTTP_GET real-server checks are NOT tested here."
if [ "$(id -u)" -ne 0 ] || ! command -v keepalived >/dev/null || ! ip netns add "access-probe-$$" 2>/dev/null; then
  skip "needs root, keepalived and network namespaces; VRRP failover was NOT tested"
  done_testing
  exit
fi
ip netns del "access-probe-$$"

NS1="access-lb1-$$"
NS2="access-lb2-$$"
VIP=10.213.0.100
cleanup() {
  local file
  for file in "$WORK"/*.pid; do
    [ -f "$file" ] && kill -KILL "$(cat "$file")" 2>/dev/null
  done
  ip netns del "$NS1" 2>/dev/null
  ip netns del "$NS2" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# Two hosts and a link: eth0 in each namespace, 10.213.0.1 and 10.213.0.2.
ip netns add "$NS1" && ip netns add "$NS2"
ip link add "vrrpa$$" type veth peer name "vrrpb$$"
ip link set "vrrpa$$" netns "$NS1" && ip link set "vrrpb$$" netns "$NS2"
ip -n "$NS1" link set "vrrpa$$" name eth0 && ip -n "$NS2" link set "vrrpb$$" name eth0
ip -n "$NS1" addr add 10.213.0.1/24 dev eth0 && ip -n "$NS2" addr add 10.213.0.2/24 dev eth0
for ns in "$NS1" "$NS2"; do ip -n "$ns" link set lo up && ip -n "$ns" link set eth0 up; done
ok $? "two namespaces joined by a veth pair"

cat >"$WORK/inventory" <<INV
vip $VIP/24
interface eth0
virtual_router_id 77
auth_pass failover
lb lb1 10.213.0.1 150
lb lb2 10.213.0.2 100
web web1 10.213.0.3
INV
"$PROJECT_ROOT/scripts/lb-config" --inventory "$WORK/inventory" --out "$WORK/out" >"$WORK/gen.log" 2>&1
ok $? "lb-config generates both configs and they pass keepalived --config-test"

# start NAME NAMESPACE : keepalived (VRRP only) in the foreground, backgrounded here.
start() {
  ip netns exec "$2" keepalived --vrrp --dont-fork --log-console --log-detail \
    -f "$WORK/out/$1/keepalived.conf" -p "$WORK/$1-main.pid" -r "$WORK/$1-vrrp.pid" >>"$WORK/$1.log" 2>&1 &
  echo $! >"$WORK/$1-shell.pid"
}
has_vip() { ip -n "$1" -4 addr show dev eth0 | grep -q " $VIP/"; }
# wait_for CONDITION... : polls every 20 ms for up to 15 s; prints the milliseconds taken.
wait_for() {
  local start now
  start=$(date +%s%N)
  while ! "$@"; do
    now=$(date +%s%N)
    [ $(((now - start) / 1000000)) -gt 15000 ] && { echo timeout; return 1; }
    sleep 0.02
  done
  echo $((($(date +%s%N) - start) / 1000000))
}
stop_lb() { # stop_lb NAME SIGNAL
  kill "-$2" "$(cat "$WORK/$1-vrrp.pid")" "$(cat "$WORK/$1-main.pid")" 2>/dev/null
  { wait "$(cat "$WORK/$1-shell.pid")"; } 2>/dev/null  # and bash's "Killed" notice
}

start lb1 "$NS1"
start lb2 "$NS2"
took=$(wait_for has_vip "$NS1")
like "$took" '^[0-9]+$' "lb1 (priority 150) takes the VIP (${took} ms after start)"
sleep 1
ok "$(! has_vip "$NS2"; echo $?)" "lb2 stays backup: the VIP is on one node only"

# failover FROM SIGNAL TO_NAMESPACE WITHIN_MS HOW : stops FROM with SIGNAL and
# checks the VIP reaches TO_NAMESPACE within WITHIN_MS.
failover() {
  local ms
  stop_lb "$1" "$2"
  ms=$(wait_for has_vip "$3")
  echo "# failover after the master $5 (SIG$2): ${ms} ms"
  like "$ms" '^[0-9]+$' "the backup takes the VIP after the master $5"
  ok "$([ "${ms:-99999}" -lt "$4" ]; echo $?)" "within $4 ms"
}

# The master dies without a word (SIGKILL): the backup notices the silence
# after 3 advertisements of 1 s, plus skew.
failover lb1 KILL "$NS2" 5000 "was killed"
# A killed keepalived cannot withdraw its VIP; the restart does.
start lb1 "$NS1"
cleared=$(wait_for bash -c "! ip -n $NS1 -4 addr show dev eth0 | grep -q ' $VIP/'")
like "$cleared" '^[0-9]+$' "restarted, lb1 first withdraws the VIP the crash left behind"
sleep 4
ok "$(! has_vip "$NS1"; echo $?)" "nopreempt: the recovered lb1 does not take the VIP back"
ok "$(has_vip "$NS2"; echo $?)" "lb2 keeps serving the VIP"

# Now the active node stops cleanly (SIGTERM): it says goodbye (priority 0),
# so the other takes over without waiting for the silence.
failover lb2 TERM "$NS1" 3000 "stopped cleanly"
ok "$(! has_vip "$NS2"; echo $?)" "the stopped node released the VIP"

done_testing
