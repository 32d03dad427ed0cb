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
# shellcheck source=lib.sh
source "$here/lib.sh"
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

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

# 2. The emulator binary, started on a free port with TLS.
build_emulator
start_emulator

# 3. The workflow with the official SDK. Proxy variables are dropped: the SDK would send
# its requests for 127.0.0.1 through a proxy (its NO_PROXY handling is a substring test).
status=0
env -u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy -u ALL_PROXY -u all_proxy \
    "$venv/bin/python" "$here/interop.py" "$base_url" "$work/ca.pem" "$secret_id" "$secret_key" || status=$?
if [[ "$status" -ne 0 ]]; then
    emu_log
fi

# 4. Graceful shutdown on SIGTERM, state written.
stop_emulator || status=1

if [[ "$status" -eq 0 ]]; then
    log "all interop checks passed"
else
    log "interop FAILED"
fi
exit "$status"
