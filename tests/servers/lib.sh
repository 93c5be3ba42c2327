# shellcheck shell=bash
# Shared helpers for the test-server scripts (sourced, not run).
# Everything listens on 127.0.0.1 only, on ports chosen at run time.

# Debian's python has aiosmtpd; a pyenv python on PATH may not.
SERVERS_PYTHON=${SERVERS_PYTHON:-/usr/bin/python3}
[ -x "$SERVERS_PYTHON" ] || SERVERS_PYTHON=python3

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# free_ports N: prints N distinct free TCP ports on 127.0.0.1, one per line. The sockets
# are held open together so the ports differ; a race with another process taking one
# before our server binds it is possible but rare (start fails loudly then).
free_ports() {
  "$SERVERS_PYTHON" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

# wait_port PORT TIMEOUT_S: succeeds once 127.0.0.1:PORT accepts a TCP connection.
wait_port() {
  "$SERVERS_PYTHON" - "$1" "$2" <<'EOF'
import socket, sys, time
port, deadline = int(sys.argv[1]), time.monotonic() + float(sys.argv[2])
while True:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.05)
EOF
}

# make_certs DIR: a throwaway CA and a server certificate for localhost / 127.0.0.1 in
# DIR/tls (ca.pem, server.pem, server.key). Kept if present, so dovecot and the SMTP
# server in one directory share one CA.
make_certs() {
  local tls="$1/tls"
  [ -s "$tls/server.pem" ] && [ -s "$tls/ca.pem" ] && return 0
  mkdir -p "$tls"
  chmod 700 "$tls"
  (
    cd "$tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=mailreqd test CA" \
      -keyout ca.key -out ca.pem \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
      -keyout server.key -out server.csr 2>/dev/null
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=DNS:localhost,IP:127.0.0.1" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -days 30 -extfile server.ext -out server.pem 2>/dev/null
    rm -f server.csr server.ext ca.srl
    chmod 600 ca.key server.key
    chmod 644 ca.pem server.pem
  ) || die "could not create TLS certificates in $tls"
  # The directory must be traversable by unprivileged service users (dovecot's login).
  chmod 755 "$tls"
}

# write_env DIR NAME KEY=VALUE...: writes DIR/NAME.env and rebuilds DIR/ports.env from
# all DIR/*.env parts, so dovecot.sh and smtp.sh each own their keys.
write_env() {
  local dir="$1" name="$2"
  shift 2
  printf '%s\n' "$@" >"$dir/$name.env.tmp"
  mv "$dir/$name.env.tmp" "$dir/$name.env"
  rebuild_env "$dir"
}

rebuild_env() {
  local dir="$1" part
  : >"$dir/ports.env.tmp"
  for part in "$dir"/*.env; do
    [ -e "$part" ] || continue
    [ "$part" = "$dir/ports.env" ] && continue
    cat "$part" >>"$dir/ports.env.tmp"
  done
  mv "$dir/ports.env.tmp" "$dir/ports.env"
}

# env_get FILE KEY: prints the value of KEY=VALUE in FILE.
env_get() { sed -n "s/^$2=//p" "$1" | tail -n1; }

# stop_pid PID TIMEOUT_S: SIGTERM, wait, then SIGKILL. Succeeds when the process is gone.
stop_pid() {
  local pid="$1" t=$(( $2 * 20 ))
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && [ $t -gt 0 ]; do sleep 0.05; t=$((t - 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$(basename "$0"): pid $pid ignored SIGTERM, killing" >&2
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.1
  fi
}
