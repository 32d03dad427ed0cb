#!/usr/bin/env bash
# The journal's cost on a whole submission: APPS (100,000) apps submitted with `ms scan
# submit` at an unlimited rate (client and emulator), with --no-journal (a temporary journal,
# synchronous=OFF) and with --journal FILE (claims fsynced, outcomes committed before they are
# printed), alternating, RUNS (5) times each, each against a fresh release emulator.
# Prints wall time and peak RSS (GNU time) of `ms`, the medians and the journal's overhead.
#
#   crates/ms-journal/bench/submit.sh            # RUNS=5 APPS=100000
#   BASELINE=/path/to/older/ms crates/ms-journal/bench/submit.sh   # adds a third column: an
#                                                # older `ms` (e.g. before the journal) as is
set -euo pipefail
cd "$(dirname "$0")/../../.."
RUNS=${RUNS:-5}
APPS=${APPS:-100000}
ID=AKIDbenchJournalBenchJournal0000
KEY=benchJournalSecretKeyNotASecret0

cargo build --release -p ms-cli --quiet
MS=$PWD/target/release/ms
work=$(mktemp -d)
emu_pid=
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

awk -v n="$APPS" 'BEGIN {
  print "["
  for (i = 0; i < n; i++) {
    printf "%s{\"url\": \"https://cdn.example.com/apks/app-%d.apk\", \"md5\": \"%08x%024x\", \"size\": %d, \"name\": \"App %d\", \"package\": \"com.example.app%d\", \"version\": \"1.0.%d\"}\n", (i ? "," : ""), i, (i * 7919) % 4294967296, i, 1000000 + i, i, i, i
  }
  print "]"
}' > "$work/big.json"

start_emulator() { # sets emu_pid; the URL is the first line of $work/emu.out
  : > "$work/emu.out"
  "$MS" emulator serve --rate-limit 0 --quota 100000000 --scan-seconds 3600 \
    --account "$ID:$KEY" > "$work/emu.out" 2>/dev/null &
  emu_pid=$!
  for _ in $(seq 200); do
    [ -s "$work/emu.out" ] && break
    sleep 0.05
  done
}

run() { # mode run-number; appends "seconds kilobytes" to $work/<mode>
  local mode=$1 n=$2 url journal=() ms=$MS
  start_emulator
  url=$(head -1 "$work/emu.out")
  case $mode in
    journal) journal=(--journal "$work/run$n.db") ;;
    no-journal) journal=(--no-journal) ;;
    baseline) ms=$BASELINE ;;
  esac
  MS_ENDPOINT=$url TENCENTCLOUD_SECRET_ID=$ID TENCENTCLOUD_SECRET_KEY=$KEY HOME=$work \
    /usr/bin/time -f "%e %M" -o "$work/time" \
    "$ms" --rate-limit 100000 scan submit --manifest "$work/big.json" --concurrency 16 \
    -o json "${journal[@]}" > "$work/out.json" 2> "$work/err"
  grep -q "\"Submitted\": $APPS" "$work/out.json" || { cat "$work/err" >&2; exit 1; }
  kill "$emu_pid"; wait "$emu_pid" 2>/dev/null || true; emu_pid=
  read -r secs kb < "$work/time"
  printf '%-4s %-12s %10s %10.1f\n' "$n" "$mode" "$secs" "$(echo "$kb / 1024" | bc -l)"
  echo "$secs $kb" >> "$work/$mode"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %-12s %10s %10s\n' run mode seconds "max RSS MB"
modes="no-journal journal"
[ -n "${BASELINE:-}" ] && modes="baseline $modes"
for mode in $modes; do : > "$work/$mode"; done
for n in $(seq "$RUNS"); do
  for mode in $modes; do
    run "$mode" "$n"
  done
done
if [ -n "${BASELINE:-}" ]; then
  c=$(cut -d' ' -f1 "$work/baseline" | median)
  rc=$(cut -d' ' -f2 "$work/baseline" | median)
  echo "median baseline ($BASELINE): $c s, max RSS $(echo "$rc / 1024" | bc -l | xargs printf '%.1f') MB"
fi
a=$(cut -d' ' -f1 "$work/no-journal" | median)
b=$(cut -d' ' -f1 "$work/journal" | median)
ra=$(cut -d' ' -f2 "$work/no-journal" | median)
rb=$(cut -d' ' -f2 "$work/journal" | median)
echo "median wall: --no-journal $a s, --journal $b s; overhead $(echo "($b / $a - 1) * 100" | bc -l | xargs printf '%.1f') %"
echo "median max RSS: --no-journal $(echo "$ra / 1024" | bc -l | xargs printf '%.1f') MB, --journal $(echo "$rb / 1024" | bc -l | xargs printf '%.1f') MB"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
