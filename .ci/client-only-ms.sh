#!/usr/bin/env bash
# A client-only `ms` (ms-cli without its default feature `emulator`): no server stack in the
# dependency graph, no `emulator` command, and `--emulator` refused with a clear error.
# Run last by .ci/run: the build replaces target/debug/ms with the client-only binary.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "client-only ms: $*" >&2; exit 1; }

graph=$(cargo tree -p ms-cli --no-default-features -e normal,build,features)
for unwanted in 'ms-emulator v' 'rcgen v' 'hyper feature "server"' 'hyper-util feature "server'; do
  if grep -qF "$unwanted" <<<"$graph"; then
    fail "the dependency graph still has: $unwanted"
  fi
done

cargo build -q -p ms-cli --no-default-features
ms=target/debug/ms

help=$("$ms" --help)
if grep -qE '^[[:space:]]+emulator[[:space:]]' <<<"$help"; then
  fail "ms --help lists an emulator command"
fi
grep -qE '^[[:space:]]+scan[[:space:]]' <<<"$help" || fail "ms --help lists no scan command"

set +e
err=$("$ms" --emulator scan list 2>&1 >/dev/null)
code=$?
set -e
[ "$code" -eq 2 ] || fail "ms --emulator exited $code, expected 2 ($err)"
grep -qF "built without the emulator" <<<"$err" || fail "unclear --emulator error: $err"
if grep -q panicked <<<"$err"; then fail "ms --emulator panicked: $err"; fi

set +e
"$ms" emulator serve >/dev/null 2>&1
code=$?
set -e
[ "$code" -eq 2 ] || fail "ms emulator serve exited $code, expected 2"

echo "client-only ms: no server stack, no emulator command, --emulator refused (exit 2)"
