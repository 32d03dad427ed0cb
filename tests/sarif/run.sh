#!/usr/bin/env bash
# Checks `ms scan report --format sarif` with Microsoft's SARIF Multitool (`validate`: the
# SARIF 2.1.0 schema plus the tool's own rules). Fails on any error-level result; prints the
# warnings and notes by rule. Called by .ci/run; the schema check proper also runs in
# `cargo test` (crates/ms-cli/tests/ci_gate.rs).
#
# The Multitool comes from npm (`npm ci` here, from package-lock.json), as a self-contained
# .NET executable in @microsoft/sarif-multitool-linux.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d)
EMU_PID=
cleanup() {
  [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v npm >/dev/null || { echo "sarif: npm is missing (Debian packages nodejs npm)" >&2; exit 1; }
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
MULTITOOL=$(cd "$HERE" && node -p "require('@microsoft/sarif-multitool')")
# npm may skip the package's postinstall (chmod u+x); do it here.
chmod u+x "$MULTITOOL"
if ! "$MULTITOOL" --version > "$WORK/version.txt" 2>&1; then
  echo "sarif: the Multitool's Linux binary does not run here:" >&2
  cat "$WORK/version.txt" >&2
  exit 1
fi
echo "sarif: $(head -n1 "$WORK/version.txt")"

cd "$ROOT"
cargo build -q -p ms-cli
MS=$ROOT/target/debug/ms

# A plain-HTTP emulator on a free port (its URL is the first line it prints).
"$MS" emulator serve --scan-seconds 0.3 > "$WORK/emu.out" 2> "$WORK/emu.err" &
EMU_PID=$!
for _ in $(seq 100); do [ -s "$WORK/emu.out" ] && break; sleep 0.1; done
export MS_ENDPOINT
MS_ENDPOINT=$(head -n1 "$WORK/emu.out")
export TENCENTCLOUD_SECRET_ID=AKIDmsEmulatorDemoAccount000000000
export TENCENTCLOUD_SECRET_KEY=msEmulatorDemoSecretKey000000000

"$MS" -o json scan submit --manifest examples/apps.json --no-journal --wait --poll-interval 0.3 > "$WORK/submit.json"
mapfile -t IDS < <(node -e 'for (const t of JSON.parse(require("fs").readFileSync(process.argv[1])).Tasks) console.log(t.ItemId)' "$WORK/submit.json")

# Two logs: every finding, and the same with a policy whose allow-list suppresses both viruses.
cat > "$WORK/policy.toml" <<'EOF'
fail-on = "virus"
[[allow]]
package = "com.example.qrscanner"
finding = "virus:*"
reason = "sample app"
expires = 2999-12-31
[[allow]]
md5 = "cd3a05691de35b9a8acfadafbc7823b2"
finding = "virus:*"
reason = "sample app"
expires = 2999-12-31
EOF
"$MS" scan report "${IDS[@]}" --format sarif --out "$WORK/plain.sarif"
"$MS" scan report "${IDS[@]}" --format sarif --policy "$WORK/policy.toml" --out "$WORK/policy.sarif"

# A third log with what is hard to carry: an app name, package and version full of markup,
# quotes, control characters and a CDATA end, the same package twice, and scans that failed
# (MD5 bad0...) or timed out (bad1...), reported as tool execution notifications.
cat > "$WORK/edge.json" <<'EOF'
[{"url": "https://cdn.example.com/evil.apk", "md5": "efb540d74e85f846deb2bb598b4429be", "size": 4096,
  "name": "Evil <b>&amp; ]]> \"q' \u0001\u001b [x](1) \ufffe", "package": "com.ev<il>&]]>\u0002",
  "version": "1.0 \r\n\t"},
 {"url": "https://cdn.example.com/evil2.apk", "md5": "cd3a05691de35b9a8acfadafbc7823b2", "size": 4096,
  "name": "Evil 2", "package": "com.ev<il>&]]>\u0002", "version": "2.0"},
 {"url": "https://cdn.example.com/broken.apk", "md5": "bad00000000000000000000000000001", "size": 4096,
  "name": "Broken", "package": "com.example.broken"},
 {"url": "https://cdn.example.com/slow.apk", "md5": "bad10000000000000000000000000001", "size": 4096,
  "name": "Slow", "package": "com.example.slow"}]
EOF
# Exit 1: two scans failed (the results are printed all the same).
"$MS" -o json scan submit --manifest "$WORK/edge.json" --no-journal --wait --poll-interval 0.3 > "$WORK/edge-submit.json" || [ $? -eq 1 ]
"$MS" scan report --input "$WORK/edge-submit.json" --format sarif --fail-on virus --out "$WORK/edge.sarif" || [ $? -eq 4 ]

status=0
for log in plain policy edge; do
  "$MULTITOOL" validate "$WORK/$log.sarif" --output "$WORK/$log.validation.sarif" \
    --level "Error;Warning;Note" --kind "Fail" > "$WORK/$log.console.txt" 2>&1 || true
  if [ ! -s "$WORK/$log.validation.sarif" ]; then
    echo "sarif: the Multitool wrote no validation log for $log.sarif:" >&2
    tail -n 20 "$WORK/$log.console.txt" >&2
    status=1
    continue
  fi
  node - "$WORK/$log.validation.sarif" "$log.sarif" <<'JS' || status=1
const [file, name] = process.argv.slice(2);
const log = JSON.parse(require("fs").readFileSync(file, "utf8"));
const counts = {};
let errors = 0;
for (const run of log.runs) {
  for (const r of run.results || []) {
    const level = r.level || "warning";
    const key = `${level} ${r.ruleId}`;
    counts[key] = (counts[key] || 0) + 1;
    if (level === "error") {
      errors++;
      const args = (r.message.arguments || []).join(" | ");
      console.error(`sarif: ${name}: ERROR ${r.ruleId}: ${args}`);
    }
  }
  for (const n of (run.invocations || []).flatMap(i => i.toolExecutionNotifications || [])) {
    if (n.level === "error") { errors++; console.error(`sarif: ${name}: tool error: ${n.message.text}`); }
  }
}
const summary = Object.entries(counts).sort().map(([k, n]) => `${n} ${k}`).join(", ");
console.log(`sarif: ${name}: ${errors} error(s); ${summary || "no findings"}`);
process.exit(errors ? 1 : 0);
JS
done
exit $status
