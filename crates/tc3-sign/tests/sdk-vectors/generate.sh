#!/usr/bin/env bash
# Regenerates ../data/vectors-sdks.json: the HTTP requests the official SDKs send, captured
# from the SDKs themselves (not re-implemented): Python and Node.js from the interop runs'
# installations, Go, Java and PHP compiled here from their published sources at the last
# releases with the ms scan actions. .NET is not covered (no .NET SDK on Debian).
#
# Not run by CI or cargo: the captured requests are committed and checked by
# tests/sdk_vectors.rs (tc3-sign) and tests/sdk_vectors.rs (ms-emulator).
#
# Needs: python3; node (after tests/interop/run-node.sh installed the SDK); the Python
# interop virtualenv (after tests/interop/run.sh); Debian packages golang-go, default-jdk,
# libokhttp-java libokio-java libgoogle-gson-java libjaxb-api-java libini4j-java
# libcommons-logging-java, php-cli php-guzzlehttp-guzzle; and the SDK sources, e.g. from the
# GitHub repositories (never committed here):
#   GO_SDK=dir    tencentcloud-sdk-go at v1.0.650 (tencentcloud/common, tencentcloud/ms)
#   JAVA_SDK=dir  tencentcloud-sdk-java at 3.1.749 (src/main/java/com/tencentcloudapi/{common,ms})
#   PHP_SDK=dir   tencentcloud-sdk-php at 3.0.878 (src/TencentCloud/{Common,Ms})
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
out="$here/../data/vectors-sdks.json"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: "${GO_SDK:?set GO_SDK}" "${JAVA_SDK:?set JAVA_SDK}" "${PHP_SDK:?set PHP_SDK}"
capture() { python3 "$here/capture.py" "$@"; }

# Python (tencentcloud-sdk-python-ms/common 3.0.874, the interop virtualenv).
capture "$work/python.json" python "tencentcloud-sdk-python 3.0.874" \
    "tencentcloud/common/abstract_client.py (_build_req_with_tc3_signature, _build_req_with_old_signature), sign.py" \
    -- "$root/tests/interop/.venv/bin/python" "$here/python/gen.py"

# Node.js (tencentcloud-sdk-nodejs 4.0.576, the interop run's node_modules).
NODE_SDK_DIR="$root/tests/interop/node/node_modules" capture "$work/node.json" node "tencentcloud-sdk-nodejs 4.0.576" \
    "tencentcloud/common/abstract_client.js, sign.js (sign3), http/http_connection.js" \
    -- node "$here/node/gen.js"

# Go (v1.0.650), with replace directives to the local sources; no network.
mkdir -p "$work/go"
cp "$here/go/main.go" "$work/go/"
cat > "$work/go/go.mod" <<MOD
module sdkvectors

go 1.19

require (
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common v1.0.650
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ms v1.0.650
)

replace github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common => $GO_SDK/tencentcloud/common

replace github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ms => $GO_SDK/tencentcloud/ms
MOD
(cd "$work/go" && GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off go build -o vec .)
capture "$work/go.json" go "tencentcloud-sdk-go v1.0.650" \
    "tencentcloud/common/client.go (sendWithSignatureV3, sendWithSignatureV1), sign.go, http/request.go" \
    -- "$work/go/vec"

# Java (3.1.749, okhttp/okio/gson from Debian instead of the pinned 3.12/1.17/2.8).
cp="/usr/share/java/okhttp.jar:/usr/share/java/okio.jar:/usr/share/java/gson.jar:/usr/share/java/jaxb-api.jar:/usr/share/java/ini4j.jar:/usr/share/java/commons-logging.jar"
mkdir -p "$work/java"
find "$JAVA_SDK/src/main/java/com/tencentcloudapi/common" "$JAVA_SDK/src/main/java/com/tencentcloudapi/ms" -name '*.java' > "$work/java/files"
javac -nowarn -encoding UTF-8 -cp "$cp" -d "$work/java" @"$work/java/files" "$here/java/Gen.java" 2>&1 | grep -v '^Note:' || true
capture "$work/java.json" java "tencentcloud-sdk-java 3.1.749" \
    "src/main/java/com/tencentcloudapi/common/AbstractClient.java (doRequestWithTC3, formatRequestData), Sign.java" \
    -- java -cp "$cp:$work/java" Gen

# PHP (3.0.878, Guzzle from Debian).
PHP_SDK_SRC="$PHP_SDK/src" capture "$work/php.json" php "tencentcloud-sdk-php 3.0.878" \
    "src/TencentCloud/Common/AbstractClient.php (doRequestWithTC3, formatRequestData, formatSignString), Sign.php" \
    -- php "$here/php/gen.php"

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
