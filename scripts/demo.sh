#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts a throwaway Dovecot and SMTP server
# on 127.0.0.1 (free ports, a temporary directory), loads sample customers and requests,
# runs `mailreqd run --once`, prints what it did, and stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILREQD_TESTS=OFF >/dev/null
cmake --build build-demo --target mailreqd -j"$(nproc)" >/dev/null
exec /usr/bin/python3 scripts/demo.py "$PWD/build-demo/mailreqd"
