#!/usr/bin/env bash
# Interop proof: the official Tencent Cloud Python SDK (tencentcloud-sdk-python-ms 3.0.874)
# runs the whole scan workflow against the ms-emulator binary over HTTPS.
#
# Idempotent and self-contained: the virtualenv is cached in tests/interop/.venv (re-created
# when requirements.txt changes); the only network access is PyPI, on the first run.
# Exit status: 0 when every check passed, non-zero otherwise.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

log() { printf 'interop: %s\n' "$*" >&2; }

# 1. Virtualenv with the pinned SDK.
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    log "creating the virtualenv in $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" > "$stamp"
fi
"$venv/bin/python" -c 'import tencentcloud.ms.v20180408.ms_client' \
    || { log "the SDK does not import; delete $venv and retry"; exit 1; }

# 2. The emulator binary.
log "building ms-emulator"
(cd "$root" && cargo build --quiet -p ms-emulator --bin ms-emulator)
target_dir="${CARGO_TARGET_DIR:-$root/target}"
bin="$target_dir/debug/ms-emulator"
[[ -x "$bin" ]] || { log "no binary at $bin"; exit 1; }

# 3. Start it on a free port with TLS and wait for the base URL (first stdout line).
work="$(mktemp -d)"
emu_pid=""
cleanup() {
    if [[ -n "$emu_pid" ]] && kill -0 "$emu_pid" 2>/dev/null; then
        kill -TERM "$emu_pid" 2>/dev/null || true
        wait "$emu_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

secret_id="AKIDinteropTest0000000000000000000"
secret_key="interopSecretKey0000000000000000"
"$bin" --tls --cert-out "$work/ca.pem" --scan-seconds 0.3 --rate-limit 100 \
    --account "$secret_id:$secret_key" --state "$work/state.json" \
    > "$work/stdout" 2> "$work/stderr" &
emu_pid=$!
base_url=""
for _ in $(seq 1 300); do
    if [[ -s "$work/stdout" ]]; then
        base_url="$(head -n1 "$work/stdout")"
        [[ -n "$base_url" ]] && break
    fi
    kill -0 "$emu_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z "$base_url" || ! -s "$work/ca.pem" ]]; then
    log "the emulator did not start:"
    cat "$work/stderr" >&2 || true
    exit 1
fi
log "emulator at $base_url"

# 4. The workflow with the official SDK.
status=0
"$venv/bin/python" "$here/interop.py" "$base_url" "$work/ca.pem" "$secret_id" "$secret_key" || status=$?

# 5. Graceful shutdown on SIGTERM, state written.
kill -TERM "$emu_pid"
emu_status=0
wait "$emu_pid" || emu_status=$?
emu_pid=""
if [[ "$emu_status" -ne 0 ]]; then
    log "FAIL: the emulator exited with status $emu_status on SIGTERM"
    cat "$work/stderr" >&2 || true
    status=1
elif [[ ! -s "$work/state.json" ]]; then
    log "FAIL: no state file written at shutdown"
    status=1
else
    log "PASS emulator shut down cleanly on SIGTERM and wrote its state"
fi

if [[ "$status" -eq 0 ]]; then
    log "all interop checks passed"
else
    log "interop FAILED"
fi
exit "$status"
