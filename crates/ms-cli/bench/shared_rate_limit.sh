#!/usr/bin/env bash
# Benchmark (not a test): many `ms scan submit` processes, one account, one quota.
#
# For each scenario: a fresh `ms emulator serve --rate-limit RATE` (GCRA, burst = rate, per
# action/region/SecretId, as Tencent documents), N concurrent `ms scan submit` processes of
# APPS apps each (chunks of 20: APPS/20 CreateScanInstances each) with the same account,
# either sharing one redis-server (--shared-rate-limit) or each limiting only itself.
# Reported per scenario: exit codes, throttled replies (RequestLimitExceeded, each retried
# and logged by `ms -v`), apps accepted, and quota utilization = ideal duration of the R
# accepted requests at the quota, (R - 1) / RATE, over (a) the wall time from starting the
# processes to the last exit (start-up and manifest validation included) and (b) the span
# from the first to the last successful reply, from the timestamps of `ms -v`'s
# "call succeeded" lines across all processes (what the ms-transport benchmark measures).
#
# Usage: crates/ms-cli/bench/shared_rate_limit.sh   (from anywhere; needs redis-server, python3)
# Env: SCENARIOS (default "3:1000:20:shared 3:1000:20:alone 8:1000:20:shared
#      8:1000:20:alone 8:10000:500:shared"), i.e. PROCS:APPS:RATE:MODE.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
WORK=$(mktemp -d)
EMU_PID=
REDIS_PID=
cleanup() {
  [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null || true
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install -y redis-server" >&2; exit 1; }
SCENARIOS=${SCENARIOS:-"3:1000:20:shared 3:1000:20:alone 8:1000:20:shared 8:1000:20:alone 8:10000:500:shared"}

cargo build --release -q -p ms-cli
MS=$ROOT/target/release/ms
ID=AKIDbenchSharedLimitBench00000000
KEY=benchSharedLimitSecretKey0000000
export TENCENTCLOUD_SECRET_ID=$ID TENCENTCLOUD_SECRET_KEY=$KEY

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
  > "$WORK/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" PING >/dev/null 2>&1 && break; sleep 0.05; done
REDIS_URL=redis://127.0.0.1:$REDIS_PORT

# Manifests: distinct apps per process (the same app twice would be the same scan).
manifest() { # file procs_index apps
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
path, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
apps = [{"url": f"https://cdn.example.com/p{p}/app{i}.apk",
         "md5": f"{p:08x}{i:024x}", "size": 1000 + i, "name": f"P{p} App {i}"}
        for i in range(n)]
json.dump(apps, open(path, "w"))
PY
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start, $(date -u +%FT%TZ)"
echo "limiter cost: see 'cargo bench -p ms-transport --features redis --bench shared_limiter'"
printf '\n| processes × apps | quota | limiter | exit codes | throttled replies | apps accepted | wall (start to last exit) | utilization of the wall | first to last reply | aggregate rate | utilization |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for scenario in $SCENARIOS; do
  IFS=: read -r PROCS APPS RATE MODE <<< "$scenario"
  # A fresh emulator per scenario, enforcing RATE per action, region and SecretId.
  "$MS" emulator serve --listen 127.0.0.1:0 --account "$ID:$KEY" --rate-limit "$RATE" \
    --quota 100000000 --scan-seconds 3600 > "$WORK/emu.out" 2> "$WORK/emu.err" &
  EMU_PID=$!
  for _ in $(seq 200); do [ -s "$WORK/emu.out" ] && break; sleep 0.05; done
  URL=$(head -n1 "$WORK/emu.out")
  redis-cli -p "$REDIS_PORT" FLUSHALL >/dev/null
  for p in $(seq "$PROCS"); do manifest "$WORK/m$p.json" "$p" "$APPS"; done
  SHARED=()
  [ "$MODE" = shared ] && SHARED=(--shared-rate-limit "$REDIS_URL" --shared-rate-limit-fallback fail)
  sleep 1 # let the emulator's buckets fill
  START=$(date +%s.%N)
  PIDS=()
  for p in $(seq "$PROCS"); do
    "$MS" -v --endpoint "$URL" --rate-limit "$RATE" "${SHARED[@]}" scan submit \
      --manifest "$WORK/m$p.json" -o json > "$WORK/out$p.json" 2> "$WORK/err$p.log" &
    PIDS+=($!)
  done
  CODES=()
  for pid in "${PIDS[@]}"; do
    if wait "$pid"; then CODES+=(0); else CODES+=($?); fi
  done
  END=$(date +%s.%N)
  kill "$EMU_PID" 2>/dev/null || true
  wait "$EMU_PID" 2>/dev/null || true
  EMU_PID=
  THROTTLED=$(cat "$WORK"/err*.log | grep 'ms.call' | grep -c 'RequestLimitExceeded' || true)
  python3 - "$START" "$END" "$RATE" "$PROCS" "$APPS" "$MODE" "$THROTTLED" "${CODES[*]}" "$WORK" <<'PY'
import json, sys, glob
start, end, rate = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
procs, apps, mode, throttled, codes, work = sys.argv[4], int(sys.argv[5]), sys.argv[6], sys.argv[7], sys.argv[8], sys.argv[9]
accepted = 0
for f in glob.glob(f"{work}/out*.json"):
    try:
        accepted += json.load(open(f)).get("Submitted", 0)
    except Exception:
        pass
requests = -(-accepted // 20)
wall = end - start
ideal = (requests - 1) / rate
from datetime import datetime
stamps = []
for f in glob.glob(f"{work}/err*.log"):
    for line in open(f, errors="replace"):
        if 'ms.call{action="CreateScanInstances"' in line and "call succeeded" in line:
            stamps.append(datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp())
span = (max(stamps) - min(stamps)) if len(stamps) > 1 else float("nan")
label = "shared (Redis)" if mode == "shared" else "each process alone"
print(f"| {procs} × {apps:,} | {rate}/s | {label} | {codes} | {throttled} | {accepted:,} of {int(procs) * apps:,} "
      f"| {wall:.2f} s | {100 * ideal / wall:.1f} % | {span:.2f} s | {(len(stamps) - 1) / span:.1f} req/s | {100 * ideal / span:.1f} % |")
PY
  rm -f "$WORK"/out*.json "$WORK"/err*.log
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
