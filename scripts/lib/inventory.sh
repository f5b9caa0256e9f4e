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
#   web NAME ADDRESS [BRICK]    each web node (a GlusterFS peer with one brick)
#   arbiter NAME ADDRESS [BRICK] optional third brick holding metadata only
#   volume NAME                 GlusterFS volume (default access)
#   brick_dir DIR               default brick directory (default /srv/gluster/access)
#   mount DIR                   where each web node mounts it (default /mnt/access)
#   aws_region REGION           with the next two: AWS notify scripts for the pair
#   aws_allocation_id ID        the Elastic IP's allocation id
#   aws_eni LB_NAME ENI_ID      each load balancer's network interface

# True when $1 is a whole number from $2 to $3.
in_range() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

load_inventory() {
  local file=$1 number=0 line words
  [ -r "$file" ] || abort "cannot read inventory '$file'"
  INV_VIP="" INV_INTERFACE="" INV_ROUTER_ID=51 INV_AUTH_PASS="" INV_PORT=80
  INV_HEALTH_URL=/cgi-bin/access-health INV_VOLUME=access INV_BRICK_DIR=/srv/gluster/access
  INV_MOUNT=/mnt/access INV_AWS_REGION="" INV_AWS_ALLOCATION_ID=""
  LB_NAMES=() LB_ADDRS=() LB_PRIORITIES=() LB_ENIS=()
  WEB_NAMES=() WEB_ADDRS=() WEB_BRICKS=()
  ARBITER_NAME="" ARBITER_ADDR="" ARBITER_BRICK=""
  bad() { abort "$file line $number: $*"; }
  while IFS= read -r line || [ -n "$line" ]; do
    number=$((number + 1))
    line=${line%%#*}
    read -r -a words <<<"$line"
    [ ${#words[@]} -eq 0 ] && continue
    case ${words[0]} in
      vip) [[ ${words[1]:-} =~ ^[0-9]+(\.[0-9]+){3}/[0-9]+$ ]] || bad "vip needs ADDRESS/PREFIX"; INV_VIP=${words[1]} ;;
      interface) [ -n "${words[1]:-}" ] || bad "interface needs a name"; INV_INTERFACE=${words[1]} ;;
      virtual_router_id)
        in_range "${words[1]:-}" 1 255 || bad "virtual_router_id must be 1-255"
        INV_ROUTER_ID=${words[1]} ;;
      auth_pass) [[ ${words[1]:-} =~ ^[A-Za-z0-9]{1,8}$ ]] || bad "auth_pass must be 1-8 letters or digits"; INV_AUTH_PASS=${words[1]} ;;
      port) in_range "${words[1]:-}" 1 65535 || bad "port must be 1-65535"; INV_PORT=${words[1]} ;;
      health_url) [[ ${words[1]:-} == /* ]] || bad "health_url must start with /"; INV_HEALTH_URL=${words[1]} ;;
      volume) [[ ${words[1]:-} =~ ^[A-Za-z0-9_-]+$ ]] || bad "volume must be a plain name"; INV_VOLUME=${words[1]} ;;
      brick_dir) [[ ${words[1]:-} == /* ]] || bad "brick_dir must be absolute"; INV_BRICK_DIR=${words[1]} ;;
      mount) [[ ${words[1]:-} == /* ]] || bad "mount must be absolute"; INV_MOUNT=${words[1]} ;;
      lb)
        { [ ${#words[@]} -eq 4 ] && in_range "${words[3]}" 1 254; } || bad "lb needs NAME ADDRESS PRIORITY (1-254)"
        LB_NAMES+=("${words[1]}") LB_ADDRS+=("${words[2]}") LB_PRIORITIES+=("${words[3]}") LB_ENIS+=("") ;;
      web)
        [ ${#words[@]} -ge 3 ] || bad "web needs NAME ADDRESS [BRICK_DIR]"
        WEB_NAMES+=("${words[1]}") WEB_ADDRS+=("${words[2]}") WEB_BRICKS+=("${words[3]:-}") ;;
      arbiter)
        [ ${#words[@]} -ge 3 ] || bad "arbiter needs NAME ADDRESS [BRICK_DIR]"
        ARBITER_NAME=${words[1]} ARBITER_ADDR=${words[2]} ARBITER_BRICK=${words[3]:-} ;;
      aws_region) INV_AWS_REGION=${words[1]:-} ;;
      aws_allocation_id) INV_AWS_ALLOCATION_ID=${words[1]:-} ;;
      aws_eni)
        local i found=no
        for i in "${!LB_NAMES[@]}"; do
          if [ "${LB_NAMES[i]}" = "${words[1]:-}" ]; then LB_ENIS[i]=${words[2]:-}; found=yes; fi
        done
        [ "$found" = yes ] || bad "aws_eni names an lb not listed above" ;;
      *) bad "unknown setting '${words[0]}'" ;;
    esac
  done <"$file"
  local i
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
  abort "no web node '$1' in the inventory"
}
