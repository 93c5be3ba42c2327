#!/usr/bin/env bash
# Both test servers (Dovecot + recording SMTP) in one directory.
#
#   servers.sh start DIR   stop leftovers in DIR, wipe DIR, start both, write DIR/ports.env
#   servers.sh stop DIR    stop both and any private SMTP servers of tests (no error if
#                          not running); DIR is kept for the logs
#
# Used by the ctest fixture (tests/servers/CMakeLists.txt), the demo, benchmarks and
# tests/integration/harness.py. If one server fails to start, the other is stopped.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[ $# -eq 2 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
dir=$2

stop_all() {
  local rc=0 private
  # Private SMTP servers of tests that died before stopping them (harness.new_smtp_server).
  for private in "$dir"/private-smtp/*/; do
    [ -f "$private/smtp.pid" ] && { bash "$HERE/smtp.sh" stop "$private" || rc=1; }
  done
  bash "$HERE/smtp.sh" stop "$dir" || rc=1
  bash "$HERE/dovecot.sh" stop "$dir" || rc=1
  return $rc
}

case "$1" in
  start)
    # A ctest run that was interrupted may have left servers running here.
    [ -d "$dir" ] && stop_all
    # Refuse to wipe anything that does not look like ours.
    if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/ports.env" ] && [ ! -f "$dir/dovecot.conf" ]; then
      echo "servers.sh: $dir is not empty and not a test-server directory; not wiping it" >&2
      exit 1
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    bash "$HERE/dovecot.sh" start "$dir" || { stop_all; exit 1; }
    bash "$HERE/smtp.sh" start "$dir" || { stop_all; exit 1; }
    ;;
  stop) stop_all ;;
  *) echo "servers.sh: unknown command '$1'" >&2; exit 2 ;;
esac
