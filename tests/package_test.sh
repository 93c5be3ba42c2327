#!/bin/bash
# Builds the .deb with CPack from a configured build directory and checks what it would
# install, without installing it on this machine: control fields and dependencies, the
# file list (nothing in /etc), the unit's ExecStart= matching the packaged binary, the
# maintainer scripts, and an unpack with dpkg into a scratch root plus the postinst's
# sysusers/tmpfiles steps applied to that root.
#   tests/package_test.sh BUILD_DIR [INSTALL_PREFIX]
# Exit 77 (skipped) without dpkg-deb or cpack. CPack builds the "all" target of BUILD_DIR
# first; for a release package use a build configured with -DMAILREQD_TESTS=OFF.
set -euo pipefail

BUILD=$(cd "${1:?usage: package_test.sh BUILD_DIR [PREFIX]}" && pwd)
PREFIX=${2:-/usr}
P=.${PREFIX%/}  # path of the prefix inside the package (./usr)

for tool in dpkg-deb dpkg cpack; do
  if ! command -v $tool >/dev/null; then
    echo "SKIPPED: $tool not found" >&2
    exit 77
  fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

(cd "$tmp" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1) \
  || fail "cpack failed: $(tail -20 "$tmp/cpack.log")"
deb=$(ls "$tmp"/out/mailreqd_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no mailreqd_*.deb in $(ls "$tmp/out")"
ok "cpack built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

[ "$(dpkg-deb -f "$deb" Package)" = mailreqd ] || fail "package name is not mailreqd"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in libcurl libsqlite3 libyaml-cpp libmimetic libsystemd0 systemd; do
  grep -q "$dep" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
ok "Depends: $depends"

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#/$##' >"$tmp/files"
for f in "$P/sbin/mailreqd" "$P/lib/systemd/system/mailreqd.service" \
    "$P/lib/sysusers.d/mailreqd.conf" "$P/lib/tmpfiles.d/mailreqd.conf" \
    "$P/share/doc/mailreqd/mailreqd.example.yaml" "$P/share/man/man8/mailreqd.8" \
    "$P/share/man/man5/mailreqd.yaml.5"; do
  grep -qxF "$f" "$tmp/files" || fail "the package lacks $f"
done
if grep -q '^\./etc' "$tmp/files"; then fail "the package installs into /etc: $(grep '^\./etc' "$tmp/files")"; fi
ok "files: binary in sbin, unit, sysusers, tmpfiles, example config, man pages; nothing in /etc"

mkdir -p "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x"
dpkg-deb -e "$deb" "$tmp/control"
grep -qx "ExecStart=$PREFIX/sbin/mailreqd run --config /etc/mailreqd/mailreqd.yaml" \
  "$tmp/x/$P/lib/systemd/system/mailreqd.service" || fail "ExecStart= does not name $PREFIX/sbin/mailreqd"
[ -x "$tmp/x/$P/sbin/mailreqd" ] || fail "the binary is not executable"
version=$("$tmp/x/$P/sbin/mailreqd" --version) || fail "the packaged binary does not run"
ok "ExecStart= names the packaged binary, which runs: $version"

for s in postinst prerm postrm; do
  [ -x "$tmp/control/$s" ] || fail "no executable $s"
  sh -n "$tmp/control/$s" || fail "$s: syntax error"
done
grep -q "systemd-sysusers $PREFIX/lib/sysusers.d/mailreqd.conf" "$tmp/control/postinst" \
  || fail "postinst does not run systemd-sysusers on the packaged file"
ok "maintainer scripts present and parse"

# dpkg itself accepts and unpacks the package into a scratch root with its own database
# (--unpack runs no postinst; its two steps are applied by hand below).
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-not-root --unpack "$deb" >"$tmp/dpkg.log" 2>&1 \
  || fail "dpkg --unpack failed: $(cat "$tmp/dpkg.log")"
[ -x "$root/$P/sbin/mailreqd" ] || fail "dpkg did not unpack the binary"
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
  systemd-sysusers --root="$root" >/dev/null 2>&1 || fail "systemd-sysusers --root failed"
  grep -q '^mailreqd:' "$root/etc/passwd" || fail "postinst's sysusers step creates no mailreqd user"
  systemd-tmpfiles --root="$root" --create "$root/$P/lib/tmpfiles.d/mailreqd.conf" \
    || fail "systemd-tmpfiles --root failed"
  [ "$(stat -c %a "$root/etc/mailreqd/imap-password")" = 600 ] || fail "imap-password not 0600"
  ok "dpkg unpacks it; the postinst steps create user mailreqd, /etc/mailreqd and /var/lib/mailreqd"
else
  ok "dpkg unpacks it (systemd-sysusers absent: postinst steps not simulated)"
fi
