#!/usr/bin/env bash
# Interop proof: the official Tencent Cloud Node.js SDK (tencentcloud-sdk-nodejs 4.0.576, a
# release with the ms scan actions) runs the whole scan workflow against the ms-emulator binary
# over HTTPS, pointed at it through httpProfile.endpoint, with TC3-HMAC-SHA256 (POST, GET),
# HmacSHA256 and HmacSHA1 (POST, GET).
#
# The package is installed from npm with `npm ci` (exact versions of node/package-lock.json)
# into tests/interop/node/node_modules, re-installed when the lock file or the Node.js version
# changes or the SDK no longer loads; the only network access is the npm registry, then.
# Exit status: 0 when every check passed, non-zero otherwise. The emulator is stopped on any
# exit (including Ctrl-C and errors).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"
pkg="$here/node"
node="${NODE:-node}"
npm="${NPM:-npm}"

# 1. node_modules with the pinned SDK.
command -v "$node" >/dev/null 2>&1 || die "$node not found (install Node.js >= 14, or set NODE=/path/to/node)"
command -v "$npm" >/dev/null 2>&1 || die "$npm not found (set NPM=/path/to/npm)"
stamp="$pkg/node_modules/.interop-lock.sha256"
want="$( (sha256sum "$pkg/package-lock.json"; "$node" --version) | sha256sum | cut -d' ' -f1)"
sdk_loads() { (cd "$pkg" && "$node" -e 'require("tencentcloud-sdk-nodejs").ms.v20180408.Client') >/dev/null 2>&1; }
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]] || ! sdk_loads; then
    log "installing tencentcloud-sdk-nodejs with npm ci in $pkg"
    (cd "$pkg" && "$npm" ci --no-audit --no-fund --loglevel=error) \
        || die "npm ci failed in tests/interop/node (npm registry reachable?)"
    sdk_loads || die "the SDK does not load after npm ci"
    echo "$want" > "$stamp"
fi

# 2. The emulator binary, started on a free port with TLS.
build_emulator
start_emulator

# 3. The workflow with the official SDK (its https agent trusts the emulator's CA; with an
# agent the SDK uses no proxy, but drop the variables anyway).
status=0
(cd "$pkg" && env -u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy -u ALL_PROXY -u all_proxy \
    "$node" interop.js "$base_url" "$work/ca.pem" "$secret_id" "$secret_key") || status=$?
if [[ "$status" -ne 0 ]]; then
    emu_log
fi

# 4. Graceful shutdown on SIGTERM, state written.
stop_emulator || status=1

if [[ "$status" -eq 0 ]]; then
    log "all Node.js interop checks passed"
else
    log "Node.js interop FAILED"
fi
exit "$status"
