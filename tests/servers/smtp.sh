#!/usr/bin/env bash
# The recording SMTP server (smtp_server.py) as a background process for tests.
#
#   smtp.sh start DIR [smtp_server.py options...]   start; wait until it accepts connections
#   smtp.sh stop DIR                                stop (SIGTERM, then SIGKILL after 10 s)
#   smtp.sh restart DIR                             stop and start again on the same ports
#
# Listens on 127.0.0.1: plain SMTP with STARTTLS offered (SMTP_PORT) and SMTPS
# (SMTPS_PORT), no AUTH unless options say so (e.g. --auth user:pw). Certificates are
# shared with dovecot.sh (DIR/tls). Writes to DIR/ports.env:
#   SMTP_PORT SMTPS_PORT SMTP_SPOOL SMTP_CONTROL SMTP_PID_FILE (and CA_FILE)
# Messages land in DIR/smtp-spool (NNNNNN.eml + index.jsonl); fault injection is the JSON
# file DIR/smtp-control.json (see smtp_server.py). stderr goes to DIR/smtp.log.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/servers/lib.sh
. "$HERE/lib.sh"

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

pid_of() { [ -s "$1/smtp.pid" ] && cat "$1/smtp.pid"; }
running() {
  local pid
  pid=$(pid_of "$1" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null
}

# launch DIR SMTP_PORT SMTPS_PORT [options...]: port 0 means pick a free one.
launch() {
  local dir="$1" port="$2" sport="$3"
  shift 3
  rm -f "$dir/smtp.port" "$dir/smtps.port" "$dir/smtp.pid"
  mkdir -p "$dir/smtp-spool"
  # setsid: the server must not die with the shell (or ctest step) that started it.
  setsid "$SERVERS_PYTHON" "$HERE/smtp_server.py" \
    --spool "$dir/smtp-spool" --control "$dir/smtp-control.json" \
    --port "$port" --port-file "$dir/smtp.port" \
    --smtps-port "$sport" --smtps-port-file "$dir/smtps.port" \
    --tls-cert "$dir/tls/server.pem" --tls-key "$dir/tls/server.key" \
    --pid-file "$dir/smtp.pid" "$@" \
    </dev/null >>"$dir/smtp.log" 2>&1 &
  local child=$! t=200
  while [ ! -s "$dir/smtp.pid" ] && [ $t -gt 0 ]; do
    if ! kill -0 "$child" 2>/dev/null; then
      echo "smtp_server.py exited at startup; log:" >&2
      cat "$dir/smtp.log" >&2
      return 1
    fi
    sleep 0.05
    t=$((t - 1))
  done
  if [ ! -s "$dir/smtp.pid" ] || ! wait_port "$(cat "$dir/smtp.port")" 5; then
    echo "smtp_server.py did not start within 10 s; log:" >&2
    cat "$dir/smtp.log" >&2
    stop_pid "$child" 5
    return 1
  fi
  : >"$dir/smtp.args"
  [ $# -eq 0 ] || printf '%s\n' "$@" >"$dir/smtp.args"
  write_env "$dir" smtp \
    "SMTP_HOST=127.0.0.1" \
    "SMTP_PORT=$(cat "$dir/smtp.port")" \
    "SMTPS_PORT=$(cat "$dir/smtps.port")" \
    "SMTP_SPOOL=$dir/smtp-spool" \
    "SMTP_CONTROL=$dir/smtp-control.json" \
    "SMTP_PID_FILE=$dir/smtp.pid" \
    "CA_FILE=$dir/tls/ca.pem"
}

halt() {
  local dir="$1" pid
  pid=$(pid_of "$dir" 2>/dev/null) || return 0
  stop_pid "$pid" 10
  rm -f "$dir/smtp.pid"
}

cmd=${1:-}
[ $# -ge 2 ] || usage
mkdir -p "$2"
dir=$(cd "$2" && pwd)
shift 2
case "$cmd" in
  start)
    running "$dir" && die "already running in $dir (pid $(pid_of "$dir"))"
    make_certs "$dir"
    : >"$dir/smtp.log"
    launch "$dir" 0 0 "$@"
    ;;
  stop) halt "$dir" ;;
  restart)
    [ -f "$dir/smtp.env" ] || die "not started in $dir: use start"
    port=$(env_get "$dir/smtp.env" SMTP_PORT)
    sport=$(env_get "$dir/smtp.env" SMTPS_PORT)
    mapfile -t args <"$dir/smtp.args"
    halt "$dir"
    launch "$dir" "$port" "$sport" ${args[@]+"${args[@]}"}
    ;;
  *) usage ;;
esac
