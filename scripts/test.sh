#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, builds with
# ASan+UBSan and -Werror, runs every ctest test (unit and integration against a real
# Dovecot and SMTP server on 127.0.0.1), and the parser fuzzer briefly (first, so that
# ctest's summary closes the output).
#   scripts/test.sh            everything
#   scripts/fuzz.sh 3600       a longer fuzz run that explores afresh
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test
build=build-test
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DMAILREQD_SANITIZE=ON -DMAILREQD_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
# A fixed seed and run count (20,000 runs, about half a minute here): CI judges the code, not the luck of
# the draw. `scripts/fuzz.sh 3600` explores afresh for longer.
FUZZ_SEED=${FUZZ_SEED:-1} FUZZ_RUNS=${FUZZ_RUNS:-20000} scripts/fuzz.sh "${FUZZ_SECONDS:-90}" 2>&1 | tail -n 15
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
