# shellcheck shell=bash disable=SC2034 # the INV_* variables are read by the sourcing scripts
# Summary: Reads a cluster inventory (see scripts/examples/cluster.inventory).
# Usage: . "$(dirname "$0")/lib/inventory.sh"; load_inventory FILE
#
# One setting per line, "#" starts a comment:
#   vip ADDRESS/PREFIX          the load balancers' virtual address
#   interface NAME              the load balancers' interface carrying the VIP
#   virtual_router_id N         VRRP router id, 1-255 (default 51)
#   auth_pass SECRET            optional VRRP password, 1-8 characters
#   port N                      the web port (default 80)
#   health_url PATH             the health check (default /cgi-bin/access-health)
#   lb NAME ADDRESS PRIORITY    each of the two load balancers
#   web NAME ADDRESS [BRICK]    each web node (a GlusterFS peer with one brick;
#                               scripts/deploy reaches it over ssh as NAME at ADDRESS)
#   arbiter NAME ADDRESS [BRICK] optional third brick holding metadata only
#   volume NAME                 GlusterFS volume (default access)
#   brick_dir DIR               default brick directory (default /srv/gluster/access)
#   mount DIR                   where each web node mounts it (default /mnt/access)
#   aws_region REGION           with the next two: AWS notify scripts for the pair
#   aws_allocation_id ID        the Elastic IP's allocation id
#   aws_eni LB_NAME ENI_ID      each load balancer's network interface
#
# Every field is checked before it is stored, and a bad line aborts naming the
# file, the line and what was expected: the values end up in file names,
# generated shell scripts, keepalived.conf, fstab and command lines.
#   NAME     a host name: letters, digits, ".", "_", "-", starting with a letter
#            or digit, at most 63 characters, no ".."; an lb is not "realserver"
#   ADDRESS  dotted IPv4, each part 0-255 without leading zeros
#   DIR      absolute, of letters, digits and "/._-", no "." or ".." component
# A setting given twice, two lb or two web lines with one name, and extra
# words on a line are errors.

# True when $1 is a whole number from $2 to $3 (no sign, no leading zeros).
in_range() { [[ $1 =~ ^(0|[1-9][0-9]{0,9})$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

# True when $1 is a host name the cluster can use as a name and a file name.
valid_name() { [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ && $1 != *..* ]]; }

# True when $1 is a dotted IPv4 address (each part 0-255, no leading zeros).
valid_ipv4() {
  local part='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
  [[ $1 =~ ^$part\.$part\.$part\.$part$ ]]
}

# True when $1 is ADDRESS/PREFIX with a prefix of 0-32.
valid_cidr() { valid_ipv4 "${1%/*}" && [[ $1 == */* && ${1#*/} =~ ^(3[0-2]|[12]?[0-9])$ ]]; }

# True when $1 is a Linux interface name (at most 15 characters, no "/").
valid_interface() { [[ $1 =~ ^[A-Za-z0-9_.-]{1,15}$ && $1 != . && $1 != .. ]]; }

# True when $1 is an absolute directory below / of safe characters only.
valid_dir() {
  [[ $1 =~ ^/[A-Za-z0-9/._-]*$ && $1 =~ [^/.] && /$1/ != */../* && /$1/ != */./* ]]
}

# True when $1 is an absolute URL path of safe characters only.
valid_url_path() {
  local safe='^/[A-Za-z0-9/._~%+,=:?&-]{0,1023}$'
  [[ $1 =~ $safe ]]
}

load_inventory() {
  local file=$1 number=0 line words i found setting
  local -A given=()
  if [ ! -r "$file" ] || [ -d "$file" ]; then abort "cannot read inventory '$file'"; fi
  INV_VIP="" INV_INTERFACE="" INV_ROUTER_ID=51 INV_AUTH_PASS="" INV_PORT=80
  INV_HEALTH_URL=/cgi-bin/access-health INV_VOLUME=access INV_BRICK_DIR=/srv/gluster/access
  INV_MOUNT=/mnt/access INV_AWS_REGION="" INV_AWS_ALLOCATION_ID=""
  LB_NAMES=() LB_ADDRS=() LB_PRIORITIES=() LB_ENIS=()
  WEB_NAMES=() WEB_ADDRS=() WEB_BRICKS=()
  ARBITER_NAME="" ARBITER_ADDR="" ARBITER_BRICK=""
  bad() { abort "$file line $number: $*"; }
  # inv_arity MIN MAX USAGE : the line has MIN to MAX words after the setting.
  inv_arity() {
    [ $((${#words[@]} - 1)) -ge "$1" ] || bad "$3"
    [ $((${#words[@]} - 1)) -le "$2" ] || bad "$3; extra words after it are not allowed"
  }
  # inv_node KIND : checks the NAME and ADDRESS of an lb, web or arbiter line.
  inv_node() {
    valid_name "${words[1]}" ||
      bad "$1 NAME must be a host name (letters, digits, '.', '_', '-'; starting with a letter or digit; at most 63 characters; no '..')"
    valid_ipv4 "${words[2]}" || bad "$1 ADDRESS must be a dotted IPv4 address (each part 0-255, no leading zeros)"
  }
  while IFS= read -r line || [ -n "$line" ]; do
    number=$((number + 1))
    line=${line%%#*}
    line=${line%$'\r'}
    read -r -a words <<<"$line"
    [ ${#words[@]} -eq 0 ] && continue
    setting=${words[0]}
    case $setting in
      vip | interface | virtual_router_id | auth_pass | port | health_url | volume | brick_dir | mount | \
        arbiter | aws_region | aws_allocation_id)
        [ -z "${given[$setting]:-}" ] || bad "$setting is given twice (first on line ${given[$setting]})"
        given[$setting]=$number ;;
    esac
    case $setting in
      vip)
        inv_arity 1 1 "vip needs ADDRESS/PREFIX"
        valid_cidr "${words[1]}" || bad "vip needs ADDRESS/PREFIX (dotted IPv4, each part 0-255; prefix 0-32)"
        INV_VIP=${words[1]} ;;
      interface)
        inv_arity 1 1 "interface needs a name"
        valid_interface "${words[1]}" || bad "interface must be 1-15 letters, digits, '_', '.' or '-' (not '.' or '..')"
        INV_INTERFACE=${words[1]} ;;
      virtual_router_id)
        inv_arity 1 1 "virtual_router_id must be 1-255"
        in_range "${words[1]}" 1 255 || bad "virtual_router_id must be 1-255"
        INV_ROUTER_ID=${words[1]} ;;
      auth_pass)
        inv_arity 1 1 "auth_pass must be 1-8 letters or digits"
        [[ ${words[1]} =~ ^[A-Za-z0-9]{1,8}$ ]] || bad "auth_pass must be 1-8 letters or digits"
        INV_AUTH_PASS=${words[1]} ;;
      port)
        inv_arity 1 1 "port must be 1-65535"
        in_range "${words[1]}" 1 65535 || bad "port must be 1-65535"
        INV_PORT=${words[1]} ;;
      health_url)
        inv_arity 1 1 "health_url needs a path"
        valid_url_path "${words[1]}" ||
          bad "health_url must be an absolute path of letters, digits and '/._~%+,=:?&-'"
        INV_HEALTH_URL=${words[1]} ;;
      volume)
        inv_arity 1 1 "volume needs a name"
        [[ ${words[1]} =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$ ]] ||
          bad "volume must be a plain name (letters, digits, '_', '-'; starting with a letter or digit; at most 63)"
        INV_VOLUME=${words[1]} ;;
      brick_dir | mount)
        inv_arity 1 1 "$setting needs a directory"
        valid_dir "${words[1]}" ||
          bad "$setting must be an absolute directory of letters, digits and '/._-', without '.' or '..' components"
        if [ "$setting" = mount ]; then INV_MOUNT=${words[1]}; else INV_BRICK_DIR=${words[1]}; fi ;;
      lb)
        inv_arity 3 3 "lb needs NAME ADDRESS PRIORITY (1-254)"
        inv_node lb
        [ "${words[1]}" != realserver ] || bad "lb NAME cannot be 'realserver' (lb-config writes the web nodes' files there)"
        for i in "${!LB_NAMES[@]}"; do
          [ "${LB_NAMES[i]}" != "${words[1]}" ] || bad "lb '${words[1]}' is listed twice"
        done
        in_range "${words[3]}" 1 254 || bad "lb needs NAME ADDRESS PRIORITY (1-254)"
        LB_NAMES+=("${words[1]}") LB_ADDRS+=("${words[2]}") LB_PRIORITIES+=("${words[3]}") LB_ENIS+=("") ;;
      web | arbiter)
        inv_arity 2 3 "$setting needs NAME ADDRESS [BRICK_DIR]"
        inv_node "$setting"
        if [ ${#words[@]} -eq 4 ] && ! valid_dir "${words[3]}"; then
          bad "$setting BRICK_DIR must be an absolute directory of letters, digits and '/._-', without '.' or '..' components"
        fi
        if [ "$setting" = arbiter ]; then
          ARBITER_NAME=${words[1]} ARBITER_ADDR=${words[2]} ARBITER_BRICK=${words[3]:-}
        else
          for i in "${!WEB_NAMES[@]}"; do
            [ "${WEB_NAMES[i]}" != "${words[1]}" ] || bad "web '${words[1]}' is listed twice"
          done
          WEB_NAMES+=("${words[1]}") WEB_ADDRS+=("${words[2]}") WEB_BRICKS+=("${words[3]:-}")
        fi ;;
      aws_region)
        inv_arity 1 1 "aws_region needs a region"
        [[ ${words[1]} =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || bad "aws_region must be a region like us-east-1"
        INV_AWS_REGION=${words[1]} ;;
      aws_allocation_id)
        inv_arity 1 1 "aws_allocation_id needs an id"
        [[ ${words[1]} =~ ^eipalloc-[0-9a-f]{8,17}$ ]] ||
          bad "aws_allocation_id must be eipalloc- and 8-17 lowercase hex digits"
        INV_AWS_ALLOCATION_ID=${words[1]} ;;
      aws_eni)
        inv_arity 2 2 "aws_eni needs LB_NAME ENI_ID"
        [[ ${words[2]} =~ ^eni-[0-9a-f]{8,17}$ ]] || bad "aws_eni ENI_ID must be eni- and 8-17 lowercase hex digits"
        found=no
        for i in "${!LB_NAMES[@]}"; do
          if [ "${LB_NAMES[i]}" = "${words[1]}" ]; then
            [ -z "${LB_ENIS[i]}" ] || bad "aws_eni for lb '${words[1]}' is given twice"
            LB_ENIS[i]=${words[2]} found=yes
          fi
        done
        [ "$found" = yes ] || bad "aws_eni names an lb not listed above" ;;
      *)
        # A line of one word is deploy's old node list, read no more.
        [ ${#words[@]} -gt 1 ] ||
          bad "$(printf %q "$setting") alone is not a setting: list each web node as \"web NAME ADDRESS\" (scripts/examples/cluster.inventory), its ssh user in ~/.ssh/config or ACCESS_DEPLOY_SSH_OPTIONS (-l USER); deploy reads no [user@]host list any more"
        bad "unknown setting $(printf %q "$setting")" ;;
    esac
  done <"$file"
  for i in "${!WEB_BRICKS[@]}"; do
    [ -n "${WEB_BRICKS[i]}" ] || WEB_BRICKS[i]=$INV_BRICK_DIR
  done
  [ -n "$ARBITER_NAME" ] && [ -z "$ARBITER_BRICK" ] && ARBITER_BRICK=$INV_BRICK_DIR
  return 0
}

# The index of web node NAME in WEB_NAMES, or abort.
web_index() {
  local i
  for i in "${!WEB_NAMES[@]}"; do
    [ "${WEB_NAMES[i]}" = "$1" ] && { echo "$i"; return 0; }
  done
  abort "no web node $(printf %q "$1") in the inventory"
}
