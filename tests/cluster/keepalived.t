#!/usr/bin/env bash
# The load-balancer pair's generated configs: they pass keepalived's own
# config test, say what the design says, and the real servers' DSR script and
# the AWS notify script do what they claim (in a network namespace, and
# against a stand-in aws that records its calls).
. "$(dirname "$0")/../lib.sh"

LB_CONFIG="$PROJECT_ROOT/scripts/lb-config"
EXAMPLE="$PROJECT_ROOT/scripts/examples/cluster.inventory"
# Hostile inventories: every field is checked before anything is written,
# so no name leads out of --out and no value reaches a generated script
# unchecked. (No keepalived needed: --no-check.)
GOOD=("vip 10.0.0.5/24" "interface eth0" "lb lb1 10.0.0.1 150" "lb lb2 10.0.0.2 100"
  "web web1 10.0.0.3" "web web2 10.0.0.4")
AWS=("aws_region ap-northeast-1" "aws_allocation_id eipalloc-0123456789abcdef0"
  "aws_eni lb1 eni-0123456789abcdef1" "aws_eni lb2 eni-0123456789abcdef2")
# inventory LINE... : writes the hostile inventory, one LINE a line.
inventory() { printf '%s\n' "$@" >"$WORK/hostile.inventory"; }
# refused WHAT LINE-NUMBER EXPECTED : lb-config refuses the hostile inventory,
# naming that line and saying what it expected (an extended regex), and
# nothing at all changes under WORK (which holds --out and its parent).
refused() {
  local before after out rc
  before=$(find "$WORK" | sort)
  out=$("$LB_CONFIG" --inventory "$WORK/hostile.inventory" --out "$WORK/hostile/out" --no-check 2>&1)
  rc=$?
  after=$(find "$WORK" | sort)
  is "$rc" 1 "$1: exit status 1"
  like "$out" "^lb-config: $WORK/hostile.inventory line $2: $3" "$1: refused, naming line $2"
  is "$after" "$before" "$1: nothing was written, inside --out or out of it"
}
inventory "${GOOD[@]}"
"$LB_CONFIG" --inventory "$WORK/hostile.inventory" --out "$WORK/good" --no-check >/dev/null 2>&1
ok $? "the hostile tests' own base inventory is accepted"
rm -rf "$WORK/good"
inventory "${GOOD[@]:0:2}" "lb ../../escape 10.0.0.1 150" "${GOOD[@]:3}"
refused "an lb name with ../" 3 "lb NAME must be a host name"
inventory "${GOOD[@]:0:4}" "web ../../escape 10.0.0.3" "${GOOD[@]:5}"
refused "a web name with ../" 5 "web NAME must be a host name"
inventory "${GOOD[@]:0:3}" "lb lb2..x 10.0.0.2 100" "${GOOD[@]:4}"
refused "an lb name containing .." 4 "lb NAME must be a host name"
inventory "${GOOD[@]:0:3}" "lb lb/2 10.0.0.2 100" "${GOOD[@]:4}"
refused "an lb name with a slash" 4 "lb NAME must be a host name"
inventory "${GOOD[@]:0:4}" "web -rf 10.0.0.3" "${GOOD[@]:5}"
refused "a name that looks like an option" 5 "web NAME must be a host name"
inventory "${GOOD[@]:0:3}" "lb realserver 10.0.0.2 100" "${GOOD[@]:4}"
refused "an lb named like the realserver directory" 4 "lb NAME cannot be 'realserver'"
inventory "${GOOD[@]:0:3}" "lb lb1 10.0.0.2 100" "${GOOD[@]:4}"
refused "a duplicate lb name" 4 "lb 'lb1' is listed twice"
inventory "${GOOD[@]}" "web web1 10.0.0.9"
refused "a duplicate web name" 7 "web 'web1' is listed twice"
inventory "${GOOD[@]}" "admin@web3"
refused "a line of deploy's old [user@]host list" 7 'admin@web3 alone is not a setting: list each web node as "web NAME ADDRESS"'
# shellcheck disable=SC2016 # the $(...) is meant literally: the inventory's text
inventory "${GOOD[@]}" "${AWS[0]}" 'aws_allocation_id "eipalloc-0123456789abcdef0 $(touch pwned)"' "${AWS[@]:2}"
refused "spaces, quotes and \$(...) in an aws value" 8 "aws_allocation_id needs an id; extra words"
inventory "${GOOD[@]}" "aws_region ap-northeast-1\$(touch\${IFS}$WORK/pwned)" "${AWS[@]:1}"
refused "a command substitution in aws_region" 7 "aws_region must be a region like us-east-1"
inventory "${GOOD[@]}" "aws_region us_east" "${AWS[@]:1}"
refused "a bad aws_region" 7 "aws_region must be a region like us-east-1"
inventory "${GOOD[@]}" "${AWS[0]}" "aws_allocation_id eipalloc-0123'" "${AWS[@]:2}"
refused "a bad aws_allocation_id" 8 "aws_allocation_id must be eipalloc-"
inventory "${GOOD[@]}" "${AWS[@]:0:3}" "aws_eni lb2 eni-0123456789abcdefg"
refused "a bad aws_eni id" 10 "aws_eni ENI_ID must be eni-"
inventory "${GOOD[@]}" "${AWS[@]}" "aws_eni lb2 eni-0123456789abcdef3"
refused "a second aws_eni for one lb" 11 "aws_eni for lb 'lb2' is given twice"
inventory "${GOOD[@]:0:3}" "lb lb2 10.0.0.300 100" "${GOOD[@]:4}"
refused "an address with an octet of 300" 4 "lb ADDRESS must be a dotted IPv4 address"
inventory "${GOOD[@]:0:5}" "web web2 10.0.0.04"
refused "an address with a leading zero" 6 "web ADDRESS must be a dotted IPv4 address"
inventory "vip 10.0.0.5/33" "${GOOD[@]:1}"
refused "a vip prefix of 33" 1 "vip needs ADDRESS/PREFIX"
inventory "vip 10.0.0.256/24" "${GOOD[@]:1}"
refused "a vip address with an octet of 256" 1 "vip needs ADDRESS/PREFIX"
inventory "vip 10.0.0.5/24 junk" "${GOOD[@]:1}"
refused "an extra word on a line" 1 "vip needs ADDRESS/PREFIX; extra words"
inventory "${GOOD[@]:0:2}" "lb lb1 10.0.0.1 150 junk" "${GOOD[@]:3}"
refused "an extra word on an lb line" 3 "lb needs NAME ADDRESS PRIORITY \(1-254\); extra words"
inventory "${GOOD[@]}" "vip 10.0.0.6/24"
refused "a setting given twice" 7 "vip is given twice \(first on line 1\)"
inventory "${GOOD[@]:0:1}" "interface eth0/../x" "${GOOD[@]:2}"
refused "an interface with a slash" 2 "interface must be 1-15"
inventory "${GOOD[@]:0:1}" "interface eth0123456789abcd" "${GOOD[@]:2}"
refused "an interface name of 16 characters" 2 "interface must be 1-15"
inventory "${GOOD[@]:0:4}" "web web1 10.0.0.3 /srv/../etc" "${GOOD[@]:5}"
refused "a brick dir with .." 5 "web BRICK_DIR must be an absolute directory"
inventory "${GOOD[@]}" "brick_dir /srv/gluster/access;reboot"
refused "a brick_dir with a shell character" 7 "brick_dir must be an absolute directory"
inventory "${GOOD[@]}" "mount mnt/access"
refused "a relative mount" 7 "mount must be an absolute directory"
inventory "${GOOD[@]}" "health_url /cgi-bin/x\"\$(id)\""
refused "a health_url with quotes" 7 "health_url must be an absolute path"
inventory "${GOOD[@]:0:3}" "lb lb2 10.0.0.2 0150" "${GOOD[@]:4}"
refused "a priority with a leading zero" 4 "lb needs NAME ADDRESS PRIORITY"
ok "$([ ! -e "$WORK/pwned" ] && [ ! -e "$PWD/pwned" ]; echo $?)" "no command in a hostile value ran"
mkdir -p "$WORK/linked/out" "$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$WORK/linked/out/lb1"
inventory "${GOOD[@]}"
out=$("$LB_CONFIG" --inventory "$WORK/hostile.inventory" --out "$WORK/linked/out" --no-check 2>&1)
is "$? $out" "1 lb-config: '$WORK/linked/out/lb1' is a symbolic link; not writing through it" \
  "a symbolic link already in --out is not written through"
is "$(find "$WORK/elsewhere" "$WORK/linked" | wc -l)" 4 "and nothing was written"
rm -rf "$WORK/linked" "$WORK/elsewhere"

# The same loader guards gluster-setup: nothing is run for a bad inventory,
# and the mount point given on the command line follows the same rules.
inventory "${GOOD[@]:0:4}" "web web1 10.0.0.3 /srv/../etc" "${GOOD[@]:5}"
out=$("$PROJECT_ROOT/scripts/gluster-setup" --inventory "$WORK/hostile.inventory" --create --dry-run 2>&1)
is "$? $out" "1 gluster-setup: $WORK/hostile.inventory line 5: web BRICK_DIR must be an absolute directory of letters, digits and '/._-', without '.' or '..' components" \
  "gluster-setup refuses a brick dir with .. and runs nothing"
inventory "${GOOD[@]}" "arbiter lb1 10.0.0.1"
out=$("$PROJECT_ROOT/scripts/gluster-setup" --inventory "$WORK/hostile.inventory" --mount web1 --mount-point "$WORK/m x" --fstab "$WORK/fstab" --dry-run 2>&1)
is "$?" 1 "gluster-setup refuses a mount point with a space"
ok "$([ ! -e "$WORK/fstab" ] && [ ! -e "$WORK/m x" ]; echo $?)" "and writes no fstab line and no directory"

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
NOTIFY=$(cat "$WORK/aws/lb2/notify-master.sh")
like "$NOTIFY" "AWS_DEFAULT_REGION='ap-northeast-1'" "the notify script quotes the region"
like "$NOTIFY" "ALLOCATION='eipalloc-0123456789abcdef0'" "and the allocation id"
like "$NOTIFY" "HERE='eni-0123456789abcdef2'" "and the interface ids"
is "$(grep -c "^VIP='10.0.0.5'\$" "$WORK/aws/lb2/notify-master.sh" "$DSR" | tr '\n' ' ')" \
  "$WORK/aws/lb2/notify-master.sh:1 $DSR:1 " "both generated scripts quote the VIP"
if command -v shellcheck >/dev/null; then
  shellcheck "$WORK/aws/lb1/notify-master.sh" "$WORK/aws/lb2/notify-master.sh" >/dev/null
  ok $? "notify-master.sh is ShellCheck-clean"
fi
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
