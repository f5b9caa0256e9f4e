# shellcheck shell=bash
# Summary: A throwaway replica-3 GlusterFS volume on this machine, for tests and benchmarks (sourced).
# Usage: . scripts/lib/loopback-volume.sh; loopback_volume_create WORK VOLUME; loopback_volume_mount DIR...
#
# loopback_volume_create WORK VOLUME: starts glusterd if none runs, adds
#   three host aliases of 127.0.0.1 to /etc/hosts (gluster refuses a literal
#   loopback address for a brick), and builds and starts VOLUME with
#   scripts/gluster-setup --create, bricks WORK/brick1..3.
# loopback_volume_mount NODE DIR: mounts it as scripts/gluster-setup --mount
#   does on a web node (client caches off; ACCESS_ROOT is DIR/access).
# loopback_volume_remove: unmounts, stops and deletes the volume, and undoes
#   the rest; safe to call from an EXIT trap whatever happened before.
# Needs root, /dev/fuse and glusterfs-server; loopback_volume_usable says
# whether they are here.

LOOPBACK_NODES=(access-gl-1 access-gl-2 access-gl-3)
LOOPBACK_WORK=""
LOOPBACK_VOLUME=""
LOOPBACK_MOUNTS=()
LOOPBACK_STARTED_GLUSTERD=no
LOOPBACK_HOSTS_MARK=""

loopback_volume_usable() {
  [ "$(id -u)" -eq 0 ] && [ -e /dev/fuse ] && command -v glusterd >/dev/null
}

loopback_volume_create() {
  LOOPBACK_WORK=$1
  LOOPBACK_VOLUME=$2
  LOOPBACK_HOSTS_MARK="# access-limiter loopback volume $LOOPBACK_VOLUME"
  echo "127.0.0.1 ${LOOPBACK_NODES[*]} $LOOPBACK_HOSTS_MARK" >>/etc/hosts
  if ! pgrep -x glusterd >/dev/null; then
    glusterd -p "$LOOPBACK_WORK/glusterd.pid" && LOOPBACK_STARTED_GLUSTERD=yes
    for _ in $(seq 50); do gluster --mode=script peer status >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  cat >"$LOOPBACK_WORK/inventory" <<INV
volume $LOOPBACK_VOLUME
web ${LOOPBACK_NODES[0]} 127.0.0.1 $LOOPBACK_WORK/brick1
web ${LOOPBACK_NODES[1]} 127.0.0.1 $LOOPBACK_WORK/brick2
web ${LOOPBACK_NODES[2]} 127.0.0.1 $LOOPBACK_WORK/brick3
INV
  "$PROJECT_ROOT/scripts/gluster-setup" --inventory "$LOOPBACK_WORK/inventory" --create --force \
    >"$LOOPBACK_WORK/create.log" 2>&1
}

loopback_volume_mount() {
  LOOPBACK_MOUNTS+=("$2")
  "$PROJECT_ROOT/scripts/gluster-setup" --inventory "$LOOPBACK_WORK/inventory" --mount "$1" \
    --mount-point "$2" --fstab "$LOOPBACK_WORK/fstab" >>"$LOOPBACK_WORK/mount.log" 2>&1
}

loopback_volume_remove() {
  local m
  [ -n "$LOOPBACK_VOLUME" ] || return 0
  # Each step whatever the last did (callers may run under set -e).
  pkill -CONT -f -- "--volfile-id $LOOPBACK_VOLUME\\." 2>/dev/null || true
  for m in ${LOOPBACK_MOUNTS[@]+"${LOOPBACK_MOUNTS[@]}"}; do
    if mountpoint -q "$m"; then umount -l "$m" || true; fi
  done
  gluster --mode=script volume stop "$LOOPBACK_VOLUME" force >/dev/null 2>&1 || true
  gluster --mode=script volume delete "$LOOPBACK_VOLUME" >/dev/null 2>&1 || true
  pkill -f -- "--volfile-id $LOOPBACK_VOLUME\\." 2>/dev/null || true
  if [ "$LOOPBACK_STARTED_GLUSTERD" = yes ]; then
    kill "$(cat "$LOOPBACK_WORK/glusterd.pid" 2>/dev/null)" 2>/dev/null || true
    pkill -f glustershd 2>/dev/null || true
    sleep 1
  fi
  sed -i "\\|$LOOPBACK_HOSTS_MARK|d" /etc/hosts || true
  LOOPBACK_VOLUME=""
}
