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
  ACCESS_DRY_RUN ACCESS_STORE_TIMEOUT ACCESS_NODE_CACHE ACCESS_ERROR_MAIL ACCESS_MAIL_COMMAND
  ACCESS_MAIL_INTERVAL ACCESS_LIMITER_URL ACCESS_HEALTH_URL)

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
        *_URL)
          [[ $value =~ ^/[A-Za-z0-9/._~-]*$ ]] ||
            abort "--set $1: give a URL path: /, then letters, digits and / . _ ~ -" ;;
      esac
      return 0
    fi
  done
  abort "--set $name: not a setting the conf knows (${SETTING_NAMES[*]})"
}

# guard_conf DIR EXTENSION INTERPRETER [LINE...] : the <Directory> block that
# guards the scripts in DIR (README, "Protect an API"): those ending in
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
PACKAGES_BUILD=(build-essential cmake file libcgicc-dev rapidjson-dev libboost-test-dev help2man)
# shellcheck disable=SC2034
PACKAGES_APACHE=(apache2 apache2-utils curl)
# shellcheck disable=SC2034
PACKAGES_TEST=(perl procps shellcheck strace wrk openssh-server openssh-client php-cgi cron lintian)
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
