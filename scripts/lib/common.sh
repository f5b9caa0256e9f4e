# shellcheck shell=bash
# Summary: Shared helpers for the scripts in scripts/ (sourced, not run).
# Usage: . "$(dirname "$0")/lib/common.sh"
#
# Gives: PROJECT_ROOT, BUILD_DIR, abort, usage_requested, show_usage, run,
# install_packages, build_project, build_package.

set -e
[ -n "${DEBUG:-}" ] && set -x

PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${ACCESS_BUILD_DIR:-$PROJECT_ROOT/build}
SCRIPT_NAME=$(basename "$0")

abort() {
  echo "$SCRIPT_NAME: $*" >&2
  exit 1
}

# Prints the calling script's "# Summary:" and "# Usage:" header lines.
show_usage() {
  sed -n '2,/^[^#]/{/^#/!q;s/^# \{0,1\}//;p}' "$0"
}

# True when the first argument asks for help.
usage_requested() {
  case "${1:-}" in -h | --help) return 0 ;; esac
  return 1
}

# run COMMAND... : runs it, or with DRY_RUN=yes only prints "would: COMMAND".
run() {
  if [ "${DRY_RUN:-no}" = yes ]; then
    echo "would: $*"
  else
    "$@"
  fi
}

# The settings the conf takes as Defines (scripts/deploy and scripts/run
# --set NAME=VALUE; the package's settings file).
SETTING_NAMES=(ACCESS_LIMIT ACCESS_ROOT ACCESS_KEY ACCESS_FAIL_OPEN ACCESS_WINDOW ACCESS_KNOWN_KEYS_ONLY
  ACCESS_DRY_RUN ACCESS_STORE_TIMEOUT ACCESS_NODE_CACHE ACCESS_METRICS ACCESS_ERROR_MAIL ACCESS_MAIL_COMMAND
  ACCESS_MAIL_INTERVAL ACCESS_KEY_SECRET ACCESS_LIMITER_URL ACCESS_HEALTH_URL)

# check_setting NAME=VALUE : aborts unless NAME is one of SETTING_NAMES and
# VALUE is one word an Apache Define can hold as it is. The programs check
# the value itself (a bad one is a 500 naming it, and --check-config says so).
check_setting() {
  local name=${1%%=*} value=${1#*=} known
  for known in "${SETTING_NAMES[@]}"; do
    if [ "$name" = "$known" ]; then
      [[ $1 == *=* && -n $value && $value != *[[:space:]\"\'\$\\]* ]] ||
        abort "--set $1: give NAME=VALUE, the value without spaces, quotes, \$ or \\"
      case $name in
        ACCESS_ROOT | ACCESS_NODE_CACHE | ACCESS_MAIL_COMMAND)
          [[ $value == /* || ($name == ACCESS_NODE_CACHE && $value == off) ]] ||
            abort "--set $1: give an absolute path" ;;
        ACCESS_KEY_SECRET)
          [[ $value =~ ^[0-9a-fA-F]{32}$ ]] ||
            abort "--set ACCESS_KEY_SECRET: give 32 hex digits, such as: od -An -tx1 -N16 /dev/urandom | tr -d ' \\n'" ;;
        *_URL)
          [[ $value =~ ^/[A-Za-z0-9/._~-]*$ ]] ||
            abort "--set $1: give a URL path: /, then letters, digits and / . _ ~ -" ;;
      esac
      return 0
    fi
  done
  abort "--set $name: not a setting the conf knows (${SETTING_NAMES[*]})"
}

# The store (ACCESS_ROOT) holds keys, which can be credentials, and policies,
# which are trusted: only its owner (www-data when run as root, else the
# user running the script) may read or write it, and a directory someone
# else made, or a link to one, is never taken over.

# The store's owner, as "user:group".
store_owner() {
  if [ "$(id -u)" -eq 0 ]; then echo www-data:www-data; else echo "$(id -un):$(id -gn)"; fi
}

# check_ancestors PATH WHAT : aborts unless only root and this user can
# change what PATH names: every directory above it that exists belongs to
# root or this user, and any that others may write is sticky (like /tmp,
# where no one may move or remove another's entry); a link on the way
# belongs to root or this user. Otherwise another user could swap what the
# path leads to after it was checked.
check_ancestors() {
  local path=$1 what=$2 walked prefix part uid mode parts
  # As written, then with its links resolved: a link on the way is checked,
  # and so is every directory it leads through.
  for walked in "$path" "$(readlink -m -- "$path")"; do
    prefix=""
    IFS=/ read -r -a parts <<<"${walked#/}"
    unset 'parts[${#parts[@]}-1]'
    for part in ${parts[@]+"${parts[@]}"}; do
      [ -n "$part" ] || continue
      prefix="$prefix/$part"
      [ -e "$prefix" ] || [ -L "$prefix" ] || break
      uid=$(stat -c %u "$prefix")
      mode=$(stat -c %a "$prefix")
      if [ "$uid" -ne 0 ] && [ "$uid" -ne "$(id -u)" ]; then
        abort "$what $path: $prefix on the way belongs to uid $uid, who could swap what it leads to: refused"
      fi
      if [ ! -L "$prefix" ] && (((8#$mode & 8#022) != 0 && (8#$mode & 8#1000) == 0)); then
        abort "$what $path: others may write $prefix on the way (mode $mode) and swap what it leads to: refused"
      fi
    done
  done
}

# check_store DIR : aborts unless DIR is missing or a safe store: a real
# directory (not a link) owned by root or the store's owner, and writable by
# no one else, on a path no one else can change (check_ancestors).
check_store() {
  local dir=$1 owner_uid dir_uid mode
  owner_uid=$(id -u "$(store_owner | cut -d: -f1)")
  check_ancestors "$dir" ACCESS_ROOT
  if [ -L "$dir" ]; then
    abort "ACCESS_ROOT $dir is a symbolic link: refused (a store is never reached through a link someone could have planted); give the directory itself"
  fi
  [ -e "$dir" ] || return 0
  [ -d "$dir" ] || abort "ACCESS_ROOT $dir exists and is not a directory"
  dir_uid=$(stat -c %u "$dir")
  mode=$(stat -c %a "$dir")
  if [ "$dir_uid" -ne "$owner_uid" ] && { [ "$dir_uid" -ne 0 ] || [ "$(id -u)" -ne 0 ]; }; then
    abort "ACCESS_ROOT $dir belongs to uid $dir_uid, not to $(store_owner | cut -d: -f1) or root: refused (its owner could have planted keys or policies in it); remove it or give another directory"
  fi
  if (((8#$mode & 8#022) != 0)); then
    abort "ACCESS_ROOT $dir is writable by others (mode $mode): refused (they could have planted keys or policies in it); remove it or give another directory"
  fi
}

# make_store DIR [--hand-over] : after check_store, creates DIR if missing
# (never through a link: mkdir refuses an existing name), owned by the
# store's owner and closed to others (0700); an existing DIR of the owner's
# is closed to others too. --hand-over also gives the owner an existing DIR
# root made, and what is inside and owned by another (links themselves,
# never what they point to), for a store an earlier root run left.
make_store() {
  local dir=$1 owner
  owner=$(store_owner)
  check_store "$dir"
  if [ ! -e "$dir" ]; then
    mkdir -p "$(dirname "$dir")"
    mkdir -m 0700 "$dir" || abort "could not create ACCESS_ROOT $dir"
    [ "$(id -u)" -ne 0 ] || chown -h "$owner" "$dir"
  elif [ "${2:-}" = --hand-over ] && [ "$(id -u)" -eq 0 ]; then
    chown -h "$owner" "$dir"
    find "$dir" -xdev -mindepth 1 ! -user "${owner%%:*}" -exec chown -h "$owner" {} +
  fi
  [ "$(stat -c %U "$dir")" != "${owner%%:*}" ] || chmod 0700 "$dir"
}

# Prints a new cluster secret for ACCESS_KEY_SECRET: 128 random bits in hex.
new_key_secret() {
  od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

# guard_conf DIR EXTENSION INTERPRETER [LINE...] : the <Directory> block that
# guards the scripts in DIR (docs/guard.md): those ending in
# .EXTENSION, or all when it is empty, run by INTERPRETER or by themselves.
# Each LINE goes in first. The two SetEnvIfExpr lines hand the location's
# CONTEXT_PREFIX and CONTEXT_DOCUMENT_ROOT to the application (mod_setenvif).
guard_conf() {
  local dir=$1 extension=$2 interpreter=$3 line
  shift 3
  echo "<Directory \"$dir\">"
  for line in "$@"; do echo "  $line"; done
  if [ -n "$extension" ]; then
    printf '  <FilesMatch "\\.%s$">\n    SetHandler access-limited\n  </FilesMatch>\n' "$extension"
  else
    echo "  SetHandler access-limited"
  fi
  echo "  SetEnv ACCESS_APP_ROOT \"$dir\""
  [ -z "$interpreter" ] || echo "  SetEnv ACCESS_APP_INTERPRETER \"$interpreter\""
  # shellcheck disable=SC2016 # $1 is the regex's group, for Apache
  printf '  SetEnvIfExpr "%%{%s} =~ /(.*)/" ACCESS_%s=$1\n' CONTEXT_PREFIX CONTEXT_PREFIX \
    CONTEXT_DOCUMENT_ROOT CONTEXT_DOCUMENT_ROOT
  echo "</Directory>"
}

# Debian packages every task needs, by task. One list, so README and the
# scripts cannot disagree.
# shellcheck disable=SC2034 # used by the scripts that source this file
PACKAGES_BUILD=(build-essential cmake file libcgicc-dev rapidjson-dev libboost-test-dev libfcgi-dev help2man)
# shellcheck disable=SC2034
PACKAGES_APACHE=(apache2 apache2-utils curl)
# shellcheck disable=SC2034
PACKAGES_TEST=(perl libcgi-pm-perl procps shellcheck strace wrk openssh-server openssh-client php-cgi php-fpm libfcgi-bin python3 cron lintian prometheus)
# shellcheck disable=SC2034
PACKAGES_FUZZ=(clang libclang-rt-14-dev)
# shellcheck disable=SC2034
PACKAGES_CLUSTER=(glusterfs-server glusterfs-client keepalived iproute2 attr)

# install_packages PACKAGE... : installs the ones missing, as root, with apt-get.
install_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || abort "missing packages (${missing[*]}); run as root or install them"
  echo "$SCRIPT_NAME: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# Configures and builds into BUILD_DIR (Release). Returns non-zero on a
# failure even where set -e does not hold (inside $(...)).
build_project() {
  cmake -S "$PROJECT_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build "$BUILD_DIR" -j "$(nproc)" >/dev/null
}

# Builds the Debian package in BUILD_DIR and prints its path: the newest
# access-limiter_*.deb there.
build_package() {
  build_project || return 1
  cmake --build "$BUILD_DIR" --target package >/dev/null || return 1
  # shellcheck disable=SC2012 # names of our own making, without newlines
  ls -t "$BUILD_DIR"/access-limiter_*.deb | head -n 1
}
