#!/usr/bin/env bash
# Benchmarks mailreqd against the Python reference in ../shared/bench, in one run.
#
#   scripts/bench.sh [N]        N generated requests for the drain (default 10000)
#
# Environment:
#   BENCH_BIG=1             also drain 50,000 requests (peak RSS at 10k vs 50k; ~2 min more)
#   BENCH_ROUNDS=R          naive, batched and mailreqd run in turn R times (default 3);
#                           each run is printed, then the medians and their ratios
#   BENCH_IDLE_SECONDS=S    how long to measure the idle daemon's CPU (default 60)
#   BENCH_ONLY=parse|drain  run one half only
#   BENCH_WORK=DIR          keep the work files there (default: a temp dir, removed)
#
# Steps: installs the bench packages (scripts/deps.sh bench: Dovecot, postfix for
# smtp-sink, never started as services), builds a Release mailreqd in build-bench/, then
#   1. parse: parse_bench (ParseMessage + Classify) and tests/bench/py_parse_bench.py
#      (Python's email, default policy and compat32) over ../shared/corpus and over the
#      generated requests; prints the ratios.
#   2. drain: tests/bench/drain_bench.py: private Dovecot + smtp-sink on 127.0.0.1, the
#      reference naive and batched and `mailreqd run --once`, each on a freshly loaded
#      mailbox; then latency (daemon in IDLE) and idle CPU.
# Reads ../shared at run time and skips with a message when it is absent. Only ratios
# within one run mean anything on a shared machine.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-10000}
BUILD="$ROOT/build-bench"
SHARED="$ROOT/../shared"
PY=/usr/bin/python3

if [ ! -f "$SHARED/bench/ref_job.py" ] || [ ! -d "$SHARED/corpus" ]; then
  echo "bench.sh: SKIPPED: $SHARED/bench and $SHARED/corpus are needed (reference, generator, corpus)" >&2
  exit 77
fi

"$ROOT/scripts/deps.sh" bench

# Release, no sanitizers, no tests. -Werror off: g++ 12 at -O3 reports a false
# -Wrestrict inside libstdc++ for parsers/address.cc.
mkdir -p "$BUILD"
build() { "$@" >"$BUILD/bench-build.log" 2>&1 || { tail -40 "$BUILD/bench-build.log" >&2; exit 1; }; }
build cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMAILREQD_TESTS=OFF -DMAILREQD_WERROR=OFF
build cmake --build "$BUILD" --target mailreqd -j2
# parse_bench is a CMake target under tests/bench (MAILREQD_TESTS=ON); here, without the
# tests and Catch2, it is linked by hand against the same Release parsers library.
build g++ -std=c++20 -O2 -I"$ROOT" "$ROOT/tests/bench/parse_bench.cc" "$BUILD/libmailreqd_parsers.a" \
  -lmimetic -o "$BUILD/parse_bench"

WORK=${BENCH_WORK:-}
if [ -z "$WORK" ]; then
  WORK=$(mktemp -d /tmp/mailreqd-bench.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"
# Dovecot's mail user (not us, under root) must traverse it: mktemp makes it 0700.
chmod 755 "$WORK"

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

parse_pair() {  # DIR LABEL C_ROUNDS
  local c py pyc
  c=$("$BUILD/parse_bench" "$1" "$3")
  py=$("$PY" "$ROOT/tests/bench/py_parse_bench.py" "$1" 1 default)
  pyc=$("$PY" "$ROOT/tests/bench/py_parse_bench.py" "$1" 1 compat32)
  echo "$c"; echo "$py"; echo "$pyc"
  echo "parse ratio ($2): mailreqd/python-default = $(ratio "$(field msgs_per_s "$c")" "$(field msgs_per_s "$py")")x," \
    "mailreqd/python-compat32 = $(ratio "$(field msgs_per_s "$c")" "$(field msgs_per_s "$pyc")")x"
}

ONLY=${BENCH_ONLY:-all}
if [ "$ONLY" != drain ]; then
  echo "== parse + classify (in memory) =="
  parse_pair "$SHARED/corpus" "shared corpus" 5
  gen="$WORK/gen$N/Maildir"
  "$PY" "$ROOT/tests/bench/drain_bench.py" --generate-only --binary "$BUILD/mailreqd" --work "$WORK" --n "$N" >/dev/null
  parse_pair "$gen" "generated requests" 3
fi

if [ "$ONLY" != parse ]; then
  echo "== drain, latency, idle =="
  args=(--binary "$BUILD/mailreqd" --work "$WORK" --n "$N" --idle-seconds "${BENCH_IDLE_SECONDS:-60}"
        --rounds "${BENCH_ROUNDS:-3}")
  [ "${BENCH_BIG:-0}" = 1 ] && args+=(--big)
  "$PY" "$ROOT/tests/bench/drain_bench.py" "${args[@]}"
fi
