#!/usr/bin/env bash
# Benchmark of the `ms` command (not a test). Measures, in one run:
#   1. one `ms scan results ITEM_ID` process against a running emulator, next to the same
#      call through the official tccli 3.0.860.1 (the last release with the scan actions),
#      with hyperfine (warm-up + repeated runs);
#   2. peak memory (max RSS, /usr/bin/time -v) of submitting a 100,000-app manifest, then the
#      same submission again to the same emulator (its per-request cost must not grow with
#      the scans it stores), with the emulator's resident memory after each.
#   3. the instructions of one `ms scan results` process (valgrind --tool=callgrind, when
#      installed): a figure that does not depend on the load of the machine.
# Usage: crates/ms-cli/bench/run.sh   (from anywhere; needs python3 with venv, hyperfine, GNU time)
# Env: TCCLI_VENV (default /tmp/tccli-venv), RUNS (default 30), APPS (default 100000; 0 skips
# the submission), MS (an ms binary to measure instead of this tree's release build).
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
WORK=$(mktemp -d)
VENV=${TCCLI_VENV:-/tmp/tccli-venv}
RUNS=${RUNS:-30}
APPS=${APPS:-100000}
EMU_PID=
CERTIFI=
cleanup() {
  [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null
  [ -n "$CERTIFI" ] && [ -f "$WORK/cacert.orig" ] && cp "$WORK/cacert.orig" "$CERTIFI"
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install -y hyperfine" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing: apt-get install -y time" >&2; exit 1; }
# tccli 3.0.860.1 accepts any newer SDK, but SDKs after 3.0.874 lack the scan models: pin both.
[ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q tccli==3.0.860.1 tencentcloud-sdk-python==3.0.860

if [ -z "${MS:-}" ]; then
  cargo build --release -q -p ms-cli
  MS=$ROOT/target/release/ms
fi
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"

# A TLS emulator (tccli only speaks HTTPS), a known account, a high rate limit so that the
# quota is not what is measured.
ID=AKIDbenchBenchBenchBenchBench0000
KEY=benchSecretKeyBenchSecretKey0000
"$MS" emulator serve --tls --cert-out "$WORK/emu.pem" --account "$ID:$KEY" --scan-seconds 0.5 \
  --rate-limit 0 --quota 10000000 > "$WORK/emu.out" 2> "$WORK/emu.err" &
EMU_PID=$!
for _ in $(seq 100); do [ -s "$WORK/emu.out" ] && break; sleep 0.1; done
URL=$(head -n1 "$WORK/emu.out")
HOSTPORT=${URL#https://}
echo "emulator: $URL"
export TENCENTCLOUD_SECRET_ID=$ID TENCENTCLOUD_SECRET_KEY=$KEY
export MS_ENDPOINT=$URL MS_CALLBACK_URL=https://hooks.example.com/ms-scan
# The SDK under tccli verifies against certifi's bundle only (no env override, no tccli
# option): add the emulator's certificate to the benchmark venv's bundle for this run.
CERTIFI=$("$VENV/bin/python" -c 'import certifi; print(certifi.where())')
cp "$CERTIFI" "$WORK/cacert.orig"
cat "$WORK/emu.pem" >> "$CERTIFI"

ITEM=$("$MS" --ca-cert "$WORK/emu.pem" -o json scan submit --manifest examples/apps.json --wait --poll-interval 0.5 \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["Tasks"][0]["ItemId"])')
echo "task: $ITEM"

# Same answer from both tools (sanity check).
"$MS" --ca-cert "$WORK/emu.pem" -o json scan results "$ITEM" > "$WORK/ms.json"
"$VENV/bin/tccli" ms DescribeScanResults --region ap-guangzhou --endpoint "$HOSTPORT" --ItemId "$ITEM" > "$WORK/tccli.json"
python3 - "$WORK/ms.json" "$WORK/tccli.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert len(a["ScanSet"]) == len(b["ScanSet"]) == b["TotalCount"], (len(a["ScanSet"]), b.get("TotalCount"))
print(f"both tools returned {len(a['ScanSet'])} apps")
PY

# MS_BEFORE (optional): another ms binary (e.g. an earlier commit's) timed in the same run.
BEFORE=()
if [ -n "${MS_BEFORE:-}" ]; then
  BEFORE=(-n "ms before" "$MS_BEFORE --ca-cert $WORK/emu.pem -o json scan results $ITEM")
fi
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$WORK/hyperfine.md" --export-json "$WORK/hyperfine.json" \
  -n "ms scan results" "$MS --ca-cert $WORK/emu.pem -o json scan results $ITEM" \
  "${BEFORE[@]}" \
  -n "tccli ms DescribeScanResults" "$VENV/bin/tccli ms DescribeScanResults --region ap-guangzhou --endpoint $HOSTPORT --ItemId $ITEM"
cat "$WORK/hyperfine.md"
python3 - "$WORK/hyperfine.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ms, tc = r["ms scan results"], r["tccli ms DescribeScanResults"]
cpu = lambda x: (x["user"] + x["system"]) * 1000
print(f"wall: ms {ms['mean']*1000:.2f} ms (median {ms['median']*1000:.2f}), tccli {tc['mean']*1000:.1f} ms (median {tc['median']*1000:.1f}): "
      f"{tc['mean']/ms['mean']:.1f}x (medians {tc['median']/ms['median']:.1f}x)")
print(f"cpu (user+sys): ms {cpu(ms):.2f} ms, tccli {cpu(tc):.1f} ms: {cpu(tc)/cpu(ms):.1f}x")
if "ms before" in r:
    b = r["ms before"]
    print(f"ms before: {b['mean']*1000:.2f} ms (median {b['median']*1000:.2f}), cpu {cpu(b):.2f} ms: tccli/before {tc['mean']/b['mean']:.1f}x wall, {cpu(tc)/cpu(b):.1f}x cpu")
PY

if command -v valgrind >/dev/null; then
  for bin in "$MS" ${MS_BEFORE:+"$MS_BEFORE"}; do
    valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
      "$bin" --ca-cert "$WORK/emu.pem" -o json scan results "$ITEM" > /dev/null 2> "$WORK/callgrind.txt"
    echo "instructions of one $bin scan results process (callgrind): $(grep -o 'Collected : [0-9]*' "$WORK/callgrind.txt" | grep -o '[0-9]*$')"
  done
fi
echo "load average after the timings: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$APPS" = 0 ]; then exit 0; fi
# Peak memory of a 100,000-app submission (streamed manifest).
python3 - "$WORK/big.json" "$APPS" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("[\n")
    for i in range(n):
        md5 = "%016x%016x" % ((i * 0x9E3779B97F4A7C15) & (2**64 - 1), i)
        sep = ",\n" if i + 1 < n else "\n"
        f.write('{"url": "https://cdn.example.com/apks/app-%d.apk", "md5": "%s", "size": %d, "name": "App %d", "package": "com.example.app%d", "version": "1.0.%d"}%s' % (i, md5, 1000000 + i, i, i, i, sep))
    f.write("]\n")
PY
ls -l "$WORK/big.json"
emu_rss() { grep VmRSS "/proc/$EMU_PID/status" | awk '{print $2 " kB"}'; }
echo "emulator resident memory before the submissions: $(emu_rss)"
for round in 1 2; do
  /usr/bin/time -v "$MS" --ca-cert "$WORK/emu.pem" --rate-limit 100000 -o json scan submit --manifest "$WORK/big.json" \
    --concurrency 16 > "$WORK/big.out" 2> "$WORK/time.txt"
  echo "submission $round:"
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print("  submitted", v["Submitted"], "apps in", len(v["Tasks"]), "tasks")' "$WORK/big.out"
  grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$WORK/time.txt" | sed 's/^\s*/  /'
  echo "  emulator resident memory after it: $(emu_rss)"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
