#!/usr/bin/env bash
# Installs the Debian 12 packages mailreqd needs, only those that are missing.
#
#   scripts/deps.sh [build|test|bench]...   (default: build)
#
#   build  compiler, CMake and the libraries the daemon links
#   test   build + Dovecot, aiosmtpd, OpenSSL, clang sanitizers, sqlite3, systemd-analyze
#   bench  test + postfix (for smtp-sink)
#
# Idempotent and silent when everything is present. Runs `apt-get update` only when
# something is missing. Works as root or through sudo, never asks questions, and does not
# let package scripts start system services (dovecot, postfix): a temporary
# /usr/sbin/policy-rc.d that exits 101 is put in place for the install and removed
# afterwards, only if this script created it.
set -euo pipefail

build_pkgs=(cmake g++ make pkg-config libcurl4-openssl-dev libmimetic-dev libsqlite3-dev
  libyaml-cpp-dev catch2 libsystemd-dev libssl-dev)
test_pkgs=("${build_pkgs[@]}" dovecot-imapd python3-aiosmtpd openssl clang libclang-rt-14-dev
  python3 systemd sqlite3)
bench_pkgs=("${test_pkgs[@]}" postfix)

usage() { echo "usage: $0 [build|test|bench]..." >&2; exit 2; }

wanted=()
[ $# -eq 0 ] && set -- build
for group in "$@"; do
  case "$group" in
    build) wanted+=("${build_pkgs[@]}") ;;
    test) wanted+=("${test_pkgs[@]}") ;;
    bench) wanted+=("${bench_pkgs[@]}") ;;
    -h|--help) usage ;;
    *) echo "deps.sh: unknown group '$group'" >&2; usage ;;
  esac
done

is_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${wanted[@]}"; do
  if ! is_installed "$p" && [[ " ${missing[*]-} " != *" $p "* ]]; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo -n)   # -n: fail instead of prompting when run without a terminal (CI)
else
  echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2

# Keep package scripts from starting services.
created_policy=0
cleanup() {
  if [ "$created_policy" = 1 ]; then
    "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
  fi
}
trap cleanup EXIT
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# temporary, from mailreqd scripts/deps.sh\nexit 101\n' |
    "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi

# postfix asks which kind of mail system to set up: we only want its smtp-sink.
if [[ " ${missing[*]} " == *" postfix "* ]]; then
  echo "postfix postfix/main_mailer_type select No configuration" |
    "${SUDO[@]}" debconf-set-selections
fi

apt_env=(env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes RUNLEVEL=1)
"${SUDO[@]}" "${apt_env[@]}" apt-get update -qq
"${SUDO[@]}" "${apt_env[@]}" apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" >/dev/null

still=()
for p in "${missing[@]}"; do is_installed "$p" || still+=("$p"); done
if [ ${#still[@]} -ne 0 ]; then
  echo "deps.sh: still missing after install: ${still[*]}" >&2
  exit 1
fi
