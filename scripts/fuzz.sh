#!/usr/bin/env bash
# Fuzzes ParseMessage (+ Classify) with libFuzzer, ASan and UBSan.
# Usage: scripts/fuzz.sh [SECONDS]   (default 60; FUZZ_SEED=N FUZZ_RUNS=N: repeatable).
# Exits non-zero when the fuzzer finds a
# crash, leak, timeout or out-of-memory; the reproducer is left in build-fuzz/.
# Seeds come from ../shared/corpus when it exists (read only; copied into build-fuzz/).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="$root/../shared/corpus"
out="$root/build-fuzz"
mkdir -p "$out/corpus"

flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root")
objs=()
for src in "$root"/parsers/*.cc; do  # one object per source: a rebuild only redoes changes
  obj="$out/$(basename "${src%.cc}").o"
  if [[ ! -f "$obj" || "$src" -nt "$obj" || -n "$(find "$root/parsers" -name '*.h' -newer "$obj")" ]]; then
    clang++ "${flags[@]}" -c "$src" -o "$obj"
  fi
  objs+=("$obj")
done
clang++ "${flags[@]}" "$root/tests/fuzz/fuzz_parse.cc" "${objs[@]}" -lmimetic -o "$out/fuzz_parse"

if [[ -d "$shared" ]]; then
  for folder in autoreply bounce list normal malformed; do
    [[ -d "$shared/$folder" ]] && find "$shared/$folder" -type f -size -2000k -exec cp -n {} "$out/corpus/" \;
  done
else
  echo "fuzz.sh: no $shared; starting from an empty corpus" >&2
fi

cd "$out"
# FUZZ_SEED and FUZZ_RUNS make a run repeatable (the test command uses them, so that
# CI judges the code, not the luck of the draw); without them it explores afresh.
repeat=()
[[ -n "${FUZZ_SEED:-}" ]] && repeat+=(-seed="$FUZZ_SEED")
[[ -n "${FUZZ_RUNS:-}" ]] && repeat+=(-runs="$FUZZ_RUNS")
exec ./fuzz_parse corpus -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=2000000 \
  -timeout=10 -print_final_stats=1 "${repeat[@]}"
