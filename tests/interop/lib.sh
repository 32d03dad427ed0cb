# Shared by the interop runs (run.sh: Python SDK, run-node.sh: Node.js SDK). Source it after
# `set -euo pipefail` and after defining `here` (this directory) and `root` (the repository).
#
# Provides: log, die, build_emulator (sets $bin), start_emulator (sets $work, $emu_pid,
# $base_url, $secret_id, $secret_key; the CA certificate is "$work/ca.pem"), emu_log,
# stop_emulator (SIGTERM, checks a clean exit and the state file; returns non-zero otherwise).
# The emulator is stopped and the temporary directory removed on any exit.

log() { printf 'interop: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

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

# The emulator binary (its path as cargo reports it, wherever the target directory is).
build_emulator() {
    log "building ms-emulator"
    bin="$(cd "$root" && cargo build --quiet -p ms-emulator --bin ms-emulator --message-format=json-render-diagnostics \
        | grep -o '"executable":"[^"]*/ms-emulator"' | tail -n1 | sed 's/^"executable":"//; s/"$//')" \
        || die "cargo could not build ms-emulator"
    [[ -n "$bin" && -x "$bin" ]] || die "cargo reported no ms-emulator binary"
}

emu_log() { log "emulator stderr:"; sed 's/^/    /' "$work/stderr" >&2 || true; }

# Starts the emulator on a free port with TLS and waits for the base URL (first stdout line).
start_emulator() {
    work="$(mktemp -d)"
    secret_id="AKIDinteropTest0000000000000000000"
    secret_key="interopSecretKey0000000000000000"
    "$bin" --tls --cert-out "$work/ca.pem" --scan-seconds 0.3 --rate-limit 100 \
        --account "$secret_id:$secret_key" --state "$work/state.db" \
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
}

# Graceful shutdown on SIGTERM, state written.
stop_emulator() {
    local emu_status=0
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
        return 1
    elif [[ ! -s "$work/state.db" ]]; then
        log "FAIL: no state file written at shutdown"
        return 1
    fi
    log "PASS emulator shut down cleanly on SIGTERM and wrote its state"
}
