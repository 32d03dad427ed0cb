#!/usr/bin/env bash
# Bounded fuzzing of what faces the network (see README.md): builds the cargo fuzz targets
# (stable toolchain, no sanitizer: `-s none`) and runs each one for FUZZ_SECONDS (default 30)
# from the seeds in fuzz/corpus/<target>. New inputs go to a temporary directory, so the
# committed corpus stays small; a crash leaves its input in fuzz/artifacts/<target>/ and makes
# this script exit non-zero, naming the file.
#
# Usage: bash fuzz/run.sh [target...]      (default: every target)
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
seconds="${FUZZ_SECONDS:-30}"
log() { printf 'fuzz: %s\n' "$*" >&2; }

cargo fuzz --version >/dev/null 2>&1 || { log "cargo-fuzz is missing: cargo install cargo-fuzz --locked"; exit 1; }
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log "building ${targets[*]}"
cargo fuzz build -s none

failed=0
for t in "${targets[@]}"; do
    [[ -d "corpus/$t" ]] || { log "FAIL: no seed corpus in fuzz/corpus/$t"; failed=1; continue; }
    mkdir -p "$work/$t"
    log "running $t for ${seconds}s"
    if cargo fuzz run -s none "$t" "$work/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        > "$work/$t.log" 2>&1; then
        grep -E '^Done|stat::number_of_executed_runs' "$work/$t.log" | sed "s/^/fuzz: $t: /" >&2 || true
    else
        log "FAIL: $t found a crash (input in fuzz/artifacts/$t/):"
        grep -E 'panicked|ERROR|SUMMARY|Test unit written|artifact' "$work/$t.log" | head -20 >&2 || true
        tail -n 40 "$work/$t.log" >&2
        failed=1
    fi
done
if [[ "$failed" -ne 0 ]]; then
    log "fuzzing FAILED"
    exit 1
fi
log "every target ran ${seconds}s without a crash"
