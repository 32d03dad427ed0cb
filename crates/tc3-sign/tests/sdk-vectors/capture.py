"""Captures the HTTP requests an official SDK sends, for tests/data/vectors-sdks.json.

Usage: capture.py OUT.json SDK VERSION SOURCE -- COMMAND [ARGS...]

Starts an HTTP server on a free loopback port, runs COMMAND with ENDPOINT=127.0.0.1:PORT and
ENDPOINT_LOCALHOST=localhost:PORT in its environment (the SDK program sends its requests there),
answers every request with a minimal success envelope, and writes every request exactly as
received (method, path, raw query, headers in order, body) to OUT.json. Python standard library
only. Exits non-zero when COMMAND fails or sent nothing.
"""

import base64
import http.server
import json
import os
import subprocess
import sys
import threading

CAPTURED = []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _capture(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        CAPTURED.append({
            "method": self.command,
            "path": path,
            "query": query,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_base64": base64.b64encode(body).decode(),
        })
        reply = json.dumps({"Response": {"TotalCount": 0, "ScanSet": [], "RequestId": "00000000-0000-4000-8000-00000000000%d" % (len(CAPTURED) % 10)}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = _capture
    do_POST = _capture

    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) < 7 or sys.argv[5] != "--":
        print(__doc__)
        return 2
    out, sdk, version, source = sys.argv[1:5]
    command = sys.argv[6:]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ, ENDPOINT="127.0.0.1:%d" % port, ENDPOINT_LOCALHOST="localhost:%d" % port)
    for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    status = subprocess.call(command, env=env)
    server.shutdown()
    if status != 0 or not CAPTURED:
        print("capture: %s exited %d after %d requests" % (command[0], status, len(CAPTURED)), file=sys.stderr)
        return 1
    with open(out, "w") as f:
        json.dump({"sdk": sdk, "version": version, "source": source, "requests": CAPTURED}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("capture: %d requests from %s %s -> %s" % (len(CAPTURED), sdk, version, out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
