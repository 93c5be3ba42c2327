#!/bin/bash
# Checks systemd/: the unit verifies cleanly and its sandbox rates an exposure of 1.5 or
# lower; the sysusers and tmpfiles files apply to an empty root.
#   tests/systemd_test.sh [MAILREQD_BINARY]
# Exit 77 (skipped) without systemd-analyze (Debian package "systemd"; installing it
# starts nothing in a container). Nothing here talks to a running systemd.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
UNIT=$SRC/systemd/mailreqd.service
BINARY=${1:-}
MAX_EXPOSURE=1.5

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIPPED: systemd-analyze not found (apt-get install systemd)" >&2
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# verify checks that ExecStart= exists and that man: links resolve, so give it the built
# binary (or /bin/true) and our own man pages.
exe=/bin/true
[ -n "$BINARY" ] && [ -x "$BINARY" ] && exe=$(realpath "$BINARY")
mkdir -p "$tmp/unit" "$tmp/man/man8" "$tmp/man/man5"
sed "s#^ExecStart=/usr/sbin/mailreqd #ExecStart=$exe #" "$UNIT" >"$tmp/unit/mailreqd.service"
grep -q "^ExecStart=$exe run --config /etc/mailreqd/mailreqd.yaml$" "$tmp/unit/mailreqd.service" \
  || fail "ExecStart= is not /usr/sbin/mailreqd run --config /etc/mailreqd/mailreqd.yaml"
cp "$SRC/config/mailreqd.8" "$tmp/man/man8/"
cp "$SRC/config/mailreqd.yaml.5" "$tmp/man/man5/"
out=$(MANPATH=$tmp/man systemd-analyze verify "$tmp/unit/mailreqd.service" 2>&1) \
  || fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify reported: $out"
ok "systemd-analyze verify reports nothing"

out=$(systemd-analyze security --offline=yes --no-pager "$UNIT" 2>&1) || true
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
[ -n "$level" ] || fail "no exposure level in: $out"
awk -v l="$level" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(l <= max) }' \
  || fail "exposure $level is above $MAX_EXPOSURE:"$'\n'"$(grep '✗' <<<"$out")"
ok "systemd-analyze security: exposure $level (at most $MAX_EXPOSURE)"

# The settings the daemon's behaviour relies on, not just the score.
for setting in Type=notify WatchdogSec= Restart=on-failure User=mailreqd \
    StateDirectory=mailreqd ConfigurationDirectory=mailreqd \
    LoadCredential=imap-password: LoadCredential=smtp-password: 'ExecReload=/bin/kill -HUP $MAINPID' \
    RestartPreventExitStatus=78 ProtectSystem=strict 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
    SystemCallFilter=@system-service CapabilityBoundingSet= UMask=0077; do
  grep -qF -- "$setting" "$UNIT" || fail "the unit lacks $setting"
done
grep -q '^IPAddressDeny=' "$UNIT" && fail "IPAddressDeny= would cut off mail servers"
ok "the unit has the settings mailreqd relies on"

mkdir -p "$tmp/root/etc"
systemd-sysusers --root="$tmp/root" "$SRC/systemd/mailreqd.sysusers" >/dev/null 2>&1 \
  || fail "systemd-sysusers rejected mailreqd.sysusers"
grep -q '^mailreqd:x:[0-9]*:[0-9]*:.*:/var/lib/mailreqd:/usr/sbin/nologin$' "$tmp/root/etc/passwd" \
  || fail "no mailreqd system user: $(cat "$tmp/root/etc/passwd")"
ok "sysusers creates the mailreqd system user"

systemd-tmpfiles --root="$tmp/root" --create "$SRC/systemd/mailreqd.tmpfiles" 2>&1 \
  || fail "systemd-tmpfiles rejected mailreqd.tmpfiles"
for f in imap-password smtp-password; do
  [ "$(stat -c %a "$tmp/root/etc/mailreqd/$f")" = 600 ] || fail "/etc/mailreqd/$f is not 0600"
done
[ "$(stat -c %a "$tmp/root/var/lib/mailreqd")" = 700 ] || fail "/var/lib/mailreqd is not 0700"
echo secret >"$tmp/root/etc/mailreqd/imap-password"
chmod 644 "$tmp/root/etc/mailreqd/imap-password"
systemd-tmpfiles --root="$tmp/root" --create "$SRC/systemd/mailreqd.tmpfiles" 2>&1
[ "$(cat "$tmp/root/etc/mailreqd/imap-password")" = secret ] || fail "tmpfiles overwrote a password"
[ "$(stat -c %a "$tmp/root/etc/mailreqd/imap-password")" = 600 ] || fail "tmpfiles did not fix the mode"
ok "tmpfiles creates root-only password files, keeps their content and fixes their mode"
