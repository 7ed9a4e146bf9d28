#!/usr/bin/env bash
# Runs libFuzzer targets (built by `cmake --preset fuzz`) for a bounded time each.
# Usage: run-fuzz.sh <fuzz-build-dir> <seconds-per-target> [target...]   (default: every target)
# Each target starts from its seed corpus (test/fuzz/corpus/<target>, read only) and a working corpus
# kept under build/fuzz-corpus/<target> (grows across runs). A crash or a failed property stops the
# target, keeps the input under build/fuzz-artifacts/ and fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: run-fuzz.sh <fuzz-build-dir> <seconds-per-target> [target...]}
secs=${2:?usage: run-fuzz.sh <fuzz-build-dir> <seconds-per-target> [target...]}
shift 2
[[ $secs =~ ^[1-9][0-9]*$ ]] || { echo "run-fuzz: seconds must be a positive integer, got '$secs'" >&2; exit 2; }
targets=("$@")
if ((${#targets[@]} == 0)); then
  for d in "$root"/test/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
work="$root/build/fuzz-corpus" artifacts="$root/build/fuzz-artifacts"
mkdir -p "$artifacts"
failed=0
for t in "${targets[@]}"; do
  bin="$build/test/fuzz/fuzz_$t"
  seeds="$root/test/fuzz/corpus/$t"
  [[ -d $seeds ]] || { echo "run-fuzz: no seed corpus $seeds (targets: $(ls "$root/test/fuzz/corpus" | tr '\n' ' '))" >&2; exit 2; }
  [[ -x $bin ]] || { echo "run-fuzz: $bin is not built: run 'make fuzz-build'" >&2; exit 2; }
  mkdir -p "$work/$t"
  log="$artifacts/$t.log"
  start=$(date +%s)
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a leak or a blow-up is a finding too.
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$artifacts/$t-" "$work/$t" "$seeds" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "run-fuzz: $t: ${runs:-?} inputs in $(( $(date +%s) - start ))s, no crash ($(ls "$work/$t" | wc -l) in its working corpus)"
  else
    failed=$((failed + 1))
    echo "run-fuzz: $t FAILED; the end of its log ($log):" >&2
    grep -E 'fuzz property failed|ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -20 >&2 || tail -30 "$log" >&2
    echo "run-fuzz: reproduce with $bin <the crash file above>; once fixed, copy that file into $seeds/ so the replay test keeps it fixed" >&2
  fi
done
((failed == 0))
