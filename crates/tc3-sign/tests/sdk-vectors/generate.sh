#!/usr/bin/env bash
# Regenerates ../data/vectors-sdks.json: the HTTP requests the official SDKs send, captured
# from the SDKs themselves (not re-implemented): Python and Node.js from the interop runs'
# installations (PyPI, npm); the Go, Java and PHP captures are kept as committed (see below).
# .NET is not covered (no .NET SDK on Debian).
#
# Not run by CI or cargo: the captured requests are committed and checked by
# tests/sdk_vectors.rs (tc3-sign) and tests/sdk_vectors.rs (ms-emulator).
#
# Needs: python3; node (after tests/interop/run-node.sh installed the SDK); the Python
# interop virtualenv (after tests/interop/run.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
out="$here/../data/vectors-sdks.json"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
capture() { python3 "$here/capture.py" "$@"; }

# Python (tencentcloud-sdk-python-ms/common 3.0.874, the interop virtualenv).
capture "$work/python.json" python "tencentcloud-sdk-python 3.0.874" \
    "tencentcloud/common/abstract_client.py (_build_req_with_tc3_signature, _build_req_with_old_signature), sign.py" \
    -- "$root/tests/interop/.venv/bin/python" "$here/python/gen.py"

# Node.js (tencentcloud-sdk-nodejs 4.0.576, the interop run's node_modules).
NODE_SDK_DIR="$root/tests/interop/node/node_modules" capture "$work/node.json" node "tencentcloud-sdk-nodejs 4.0.576" \
    "tencentcloud/common/abstract_client.js, sign.js (sign3), http/http_connection.js" \
    -- node "$here/node/gen.js"

# Go v1.0.650, Java 3.1.749 and PHP 3.0.878: their requests in ../data/vectors-sdks.json were
# captured once, with capture.py, from programs built against those SDKs' published sources.
# Building third-party sources is deliberately not scripted here; this script refreshes the
# Python and Node.js captures (registry packages) and keeps the others as committed.
python3 - "$work/go.json" "$work/java.json" "$work/php.json" "$out" <<'PY'
import json, sys
*outs, vectors = sys.argv[1:]
doc = json.load(open(vectors))
for out, name in zip(outs, ("go", "java", "php")):
    (sdk,) = [s for s in doc["sdks"] if s.get("sdk") == name]
    json.dump(sdk, open(out, "w"))
PY

python3 - "$out" "$work"/python.json "$work"/node.json "$work"/go.json "$work"/java.json "$work"/php.json <<'PY'
import json, sys
out, files = sys.argv[1], sys.argv[2:]
doc = {
    "about": "HTTP requests captured from the official SDKs (crates/tc3-sign/tests/sdk-vectors/generate.sh): "
             "each SDK, pointed at http://127.0.0.1:PORT or localhost:PORT, sent DescribeScanInstances and "
             "CreateScanInstances with TC3-HMAC-SHA256 (POST, GET) and HmacSHA256/HmacSHA1 (POST, GET). "
             "Every request was signed with secret_key.",
    "secret_key": "vectorsSecretKey00000000000000000",
    "sdks": [json.load(open(f)) for f in files],
}
with open(out, "w") as f:
    json.dump(doc, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote", out, sum(len(s["requests"]) for s in doc["sdks"]), "requests")
PY
