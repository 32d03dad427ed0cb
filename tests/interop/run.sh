#!/usr/bin/env bash
# Interop proof: the official Tencent Cloud Python SDK (tencentcloud-sdk-python-ms 3.0.874)
# runs the whole scan workflow against the ms-emulator binary over HTTPS.
#
# Idempotent and self-contained: the virtualenv is cached in tests/interop/.venv (re-created
# when requirements.txt or the Python interpreter changes, or when it is broken); the only
# network access is PyPI, when the virtualenv is (re)created.
# Exit status: 0 when every check passed, non-zero otherwise. The emulator is stopped on any
# exit (including Ctrl-C and errors).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

log() { printf 'interop: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# The emulator and the temporary directory are cleaned up however the script ends.
work=""
emu_pid=""
cleanup() {
    if [[ -n "$emu_pid" ]] && kill -0 "$emu_pid" 2>/dev/null; then
        kill -TERM "$emu_pid" 2>/dev/null || true
        wait "$emu_pid" 2>/dev/null || true
    fi
    if [[ -n "$work" ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. Virtualenv with the pinned SDK.
command -v "$python" >/dev/null 2>&1 || die "$python not found (set PYTHON=/path/to/python3)"
"$python" -c 'import venv, ensurepip' 2>/dev/null \
    || die "$python cannot create virtualenvs (on Debian/Ubuntu: apt-get install python3-venv)"
want="$( (sha256sum "$here/requirements.txt"; "$python" --version 2>&1) | sha256sum | cut -d' ' -f1)"
sdk_imports() { "$venv/bin/python" -c 'import tencentcloud.ms.v20180408.ms_client' 2>/dev/null; }
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]] || ! sdk_imports; then
    log "creating the virtualenv in $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv" || die "cannot create the virtualenv in $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" \
        || { rm -rf "$venv"; die "pip could not install tests/interop/requirements.txt (PyPI reachable?)"; }
    sdk_imports || { rm -rf "$venv"; die "the SDK does not import after installation"; }
    echo "$want" > "$stamp"
fi

# 2. The emulator binary (its path as cargo reports it, wherever the target directory is).
log "building ms-emulator"
bin="$(cd "$root" && cargo build --quiet -p ms-emulator --bin ms-emulator --message-format=json-render-diagnostics \
    | "$python" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "ms-emulator":
        print(m["executable"])
')" || die "cargo could not build ms-emulator"
[[ -n "$bin" && -x "$bin" ]] || die "cargo reported no ms-emulator binary"

# 3. Start it on a free port with TLS and wait for the base URL (first stdout line).
work="$(mktemp -d)"
emu_log() { log "emulator stderr:"; sed 's/^/    /' "$work/stderr" >&2 || true; }

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
    log "FAIL: the emulator did not start"
    emu_log
    exit 1
fi
log "emulator at $base_url"

# 4. The workflow with the official SDK. Proxy variables are dropped: the SDK would send
# its requests for 127.0.0.1 through a proxy (its NO_PROXY handling is a substring test).
status=0
env -u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy -u ALL_PROXY -u all_proxy \
    "$venv/bin/python" "$here/interop.py" "$base_url" "$work/ca.pem" "$secret_id" "$secret_key" || status=$?
if [[ "$status" -ne 0 ]]; then
    emu_log
fi

# 5. Graceful shutdown on SIGTERM, state written.
emu_status=0
if kill -TERM "$emu_pid" 2>/dev/null; then
    wait "$emu_pid" || emu_status=$?
else
    log "FAIL: the emulator was no longer running"
    wait "$emu_pid" || true
    emu_status=1
fi
emu_pid=""
if [[ "$emu_status" -ne 0 ]]; then
    log "FAIL: the emulator did not exit cleanly on SIGTERM (status $emu_status)"
    emu_log
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
