#!/usr/bin/env bash
# The load-balancer pair's generated configs: they pass keepalived's own
# config test, say what the design says, and the real servers' DSR script and
# the AWS notify script do what they claim (in a network namespace, and
# against a stand-in aws that records its calls).
. "$(dirname "$0")/../lib.sh"

LB_CONFIG="$PROJECT_ROOT/scripts/lb-config"
EXAMPLE="$PROJECT_ROOT/scripts/examples/cluster.inventory"
if ! command -v keepalived >/dev/null; then
  skip "keepalived is not installed; the generated configs were NOT checked"
  done_testing
  exit
fi

"$LB_CONFIG" --inventory "$EXAMPLE" --out "$WORK/out" >"$WORK/gen.log" 2>&1
ok $? "lb-config generates the pair from the example inventory"
like "$(cat "$WORK/gen.log")" 'lb1/keepalived.conf \(keepalived --config-test: ok\)' "lb1's config passes keepalived --config-test"
like "$(cat "$WORK/gen.log")" 'lb2/keepalived.conf \(keepalived --config-test: ok\)' "lb2's config passes keepalived --config-test"
LB1=$(cat "$WORK/out/lb1/keepalived.conf")
LB2=$(cat "$WORK/out/lb2/keepalived.conf")
is "$(grep -c 'state BACKUP' <<<"$LB1$LB2")" 2 "both nodes start as BACKUP"
is "$(grep -c 'state MASTER' <<<"$LB1$LB2")" 0 "neither is MASTER (MASTER with nopreempt is the seed's defect)"
is "$(grep -c '^ *nopreempt$' <<<"$LB1") $(grep -c '^ *nopreempt$' <<<"$LB2")" "1 0" "nopreempt only on the higher priority (lb1, 150)"
like "$(tr -s ' \n' ' ' <<<"$LB1")" 'unicast_src_ip 10.0.0.1 unicast_peer \{ 10.0.0.2 \}' "lb1 talks unicast to lb2"
like "$(tr -s ' \n' ' ' <<<"$LB2")" 'unicast_src_ip 10.0.0.2 unicast_peer \{ 10.0.0.1 \}' "lb2 talks unicast to lb1"
like "$LB1" 'virtual_server 10.0.0.5 80 \{' "virtual_server on the VIP and port"
like "$LB1" 'lvs_method DR' "direct server return"
is "$(grep -c 'real_server ' <<<"$LB1")" 2 "one real_server per web node"
is "$(grep -c 'path /cgi-bin/access-health' <<<"$LB1")" 2 "health checks poll the health endpoint, not the limited one"
is "$(grep -c 'nb_get_retry\|virtusl_server' <<<"$LB1$LB2")" 0 "no deprecated nb_get_retry, no misspelt virtusl_server"
is "$(grep -c '^ *retry 3$' <<<"$LB1")" 2 "retry is used"

# The check can fail: the seed's misspelling and deprecated option do.
sed 's/^virtual_server/virtusl_server/' "$WORK/out/lb1/keepalived.conf" >"$WORK/typo.conf"
ok "$(! keepalived --config-test -f "$WORK/typo.conf" >/dev/null 2>&1; echo $?)" "keepalived --config-test rejects the seed's virtusl_server"
sed 's/ retry 3$/ nb_get_retry 3/' "$WORK/out/lb1/keepalived.conf" >"$WORK/deprecated.conf"
ok "$(! keepalived --config-test -f "$WORK/deprecated.conf" >/dev/null 2>&1; echo $?)" "keepalived --config-test rejects nb_get_retry"

# Inventory mistakes are refused before anything is written.
grep -v '^vip' "$EXAMPLE" >"$WORK/no-vip.inventory"
out=$("$LB_CONFIG" --inventory "$WORK/no-vip.inventory" --out "$WORK/bad" 2>&1)
is "$? $out" "1 lb-config: the inventory has no vip" "a missing vip is an error"
sed 's/^lb  lb2  10.0.0.2  100/lb  lb2  10.0.0.2  150/' "$EXAMPLE" >"$WORK/same.inventory"
out=$("$LB_CONFIG" --inventory "$WORK/same.inventory" --out "$WORK/bad" 2>&1)
is "$? $out" "1 lb-config: the two lb priorities must differ" "equal priorities are an error"
printf 'vip 10.0.0.5\n' >"$WORK/prefix.inventory"
out=$("$LB_CONFIG" --inventory "$WORK/prefix.inventory" --out "$WORK/bad" 2>&1)
like "$out" 'prefix.inventory line 1: vip needs ADDRESS/PREFIX' "a bad line is named by number"
ok "$([ ! -e "$WORK/bad" ]; echo $?)" "nothing was written for a bad inventory"

# The real servers' side of DSR, applied inside a network namespace of our own.
DSR="$WORK/out/realserver/dsr-vip.sh"
if command -v shellcheck >/dev/null; then
  shellcheck "$DSR" >/dev/null
  ok $? "dsr-vip.sh is ShellCheck-clean"
fi
if [ "$(id -u)" -eq 0 ] && ip netns add "access-web-$$" 2>/dev/null; then
  ns="access-web-$$"
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sh "$DSR" up && ip netns exec "$ns" sh "$DSR" up
  ok $? "dsr-vip.sh up runs (twice: idempotent)"
  like "$(ip -n "$ns" -4 addr show dev lo)" 'inet 10.0.0.5/32 scope global lo' "the VIP sits on lo as a /32"
  is "$(ip -n "$ns" -4 addr show dev lo | grep -c 10.0.0.5)" 1 "only once"
  is "$(ip netns exec "$ns" sysctl -n net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce | tr '\n' ' ')" "1 2 " "arp_ignore=1 and arp_announce=2 on all interfaces"
  ip netns exec "$ns" sh "$DSR" down
  is "$(ip -n "$ns" -4 addr show dev lo | grep -c 10.0.0.5)" 0 "dsr-vip.sh down removes the VIP"
  ip netns del "$ns"
else
  skip "no network namespace could be made (needs root); dsr-vip.sh was NOT run"
fi

# AWS: the notify script moves the VIP and the Elastic IP with the aws CLI.
sed 's/^# aws/aws/' "$EXAMPLE" >"$WORK/aws.inventory"
"$LB_CONFIG" --inventory "$WORK/aws.inventory" --out "$WORK/aws" >"$WORK/aws.log" 2>&1
ok $? "lb-config with aws settings passes keepalived --config-test"
like "$(cat "$WORK/aws/lb2/keepalived.conf")" 'notify_master "/etc/keepalived/notify-master.sh"' "keepalived runs the notify script on becoming master"
like "$(cat "$WORK/aws/lb2/keepalived.conf")" 'enable_script_security' "with script security on"
mkdir -p "$WORK/bin"
cat >"$WORK/bin/aws" <<STUB
#!/bin/sh
echo "AWS_DEFAULT_REGION=\$AWS_DEFAULT_REGION aws \$*" >>"$WORK/aws-calls"
STUB
cat >"$WORK/bin/logger" <<'STUB'
#!/bin/sh
exit 0
STUB
chmod +x "$WORK/bin/aws" "$WORK/bin/logger"
PATH="$WORK/bin:$PATH" sh "$WORK/aws/lb2/notify-master.sh"
ok $? "lb2's notify script runs"
is "$(cat "$WORK/aws-calls")" "AWS_DEFAULT_REGION=ap-northeast-1 aws ec2 unassign-private-ip-addresses --network-interface-id eni-0123456789abcdef1 --private-ip-addresses 10.0.0.5
AWS_DEFAULT_REGION=ap-northeast-1 aws ec2 assign-private-ip-addresses --network-interface-id eni-0123456789abcdef2 --private-ip-addresses 10.0.0.5 --allow-reassignment
AWS_DEFAULT_REGION=ap-northeast-1 aws ec2 associate-address --allocation-id eipalloc-0123456789abcdef0 --network-interface-id eni-0123456789abcdef2 --private-ip-address 10.0.0.5 --allow-reassociation" \
  "it takes the VIP from lb1's interface, gives it to lb2's, then moves the Elastic IP"

done_testing
