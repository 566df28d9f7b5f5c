#!/usr/bin/env bash
# Runs Microsoft's official Go SDK (tests/go-sdk, github.com/microsoft/azure-devops-go-api/
# azuredevops/v7, pinned in tests/go-sdk/go.mod and go.sum) against azdo-sim.
#
#   hack/go-sdk-test.sh [go test arguments...]
#
# 1. Builds azdo-sim and starts it with the default seed on free loopback ports, its CA in a
#    temporary directory.
# 2. Runs `go test` in tests/go-sdk with SSL_CERT_FILE set to that CA (TLS verification stays
#    on; the SDK uses Go's default client), stops the simulator whatever happens, and exits with
#    go test's status. Modules come from the Go module proxy (checked against go.sum).
#
# Environment: CARGO (default cargo), GO (default go), AZDO_GO_SDK_TEST_TIMEOUT (seconds, default
# 600), AZDO_SDK_KEEP=1 keeps the work directory (simulator log, CA).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CARGO=${CARGO:-cargo}
GO=${GO:-go}
TEST_TIMEOUT=${AZDO_GO_SDK_TEST_TIMEOUT:-600}
START_TIMEOUT=60
SEED=$ROOT/sim/seeds/default.yaml

log() { printf 'go-sdk-test: %s\n' "$*" >&2; }

WORK=""
SIM_PID=""
cleanup() {
  if [[ -n $SIM_PID ]] && kill -0 "$SIM_PID" 2>/dev/null; then
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
  fi
  if [[ -n $WORK ]]; then
    if [[ ${AZDO_SDK_KEEP:-} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

banner_url() {
  sed -n "s|^  $1 .*\(https://[^ ]*\)$|\1|p" "$WORK/sim.out" | head -n 1
}

command -v "$GO" >/dev/null || { log "the Go toolchain ($GO) is needed: https://go.dev/dl"; exit 1; }

log "building azdo-sim"
"$CARGO" build --quiet -p azdo-sim --bin azdo-sim --manifest-path "$ROOT/Cargo.toml"
TARGET_DIR=$("$CARGO" metadata --format-version 1 --no-deps --manifest-path "$ROOT/Cargo.toml" |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
BINARY=$TARGET_DIR/debug/azdo-sim
[[ -x $BINARY ]] || { log "no azdo-sim executable at $BINARY"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/azdo-go-sdk-test.XXXXXX")
"$BINARY" --seed "$SEED" --listen 127.0.0.1 --dev-port 0 --vssps-port 0 --login-port 0 \
  --ca-out "$WORK" >"$WORK/sim.out" 2>"$WORK/sim.log" &
SIM_PID=$!
waited=0
until grep -q '^  CA certificate:' "$WORK/sim.out" 2>/dev/null; do
  if ! kill -0 "$SIM_PID" 2>/dev/null; then
    log "azdo-sim exited during start:"; cat "$WORK/sim.log" >&2; exit 1
  fi
  if ((waited >= START_TIMEOUT * 10)); then log "azdo-sim did not start"; exit 1; fi
  sleep 0.1
  waited=$((waited + 1))
done
export AZDO_SIM_DEV_URL AZDO_SIM_VSSPS_URL SSL_CERT_FILE
AZDO_SIM_DEV_URL=$(banner_url 'dev (dev.azure.com):')
AZDO_SIM_VSSPS_URL=$(banner_url 'vssps (vssps.dev.azure.com, Graph):')
SSL_CERT_FILE=$WORK/ca.pem
log "azdo-sim (pid $SIM_PID): dev $AZDO_SIM_DEV_URL, vssps $AZDO_SIM_VSSPS_URL"

status=0
(cd "$ROOT/tests/go-sdk" && exec timeout "$TEST_TIMEOUT" "$GO" test -count=1 "$@" ./...) || status=$?
if ((status != 0)) && [[ -s $WORK/sim.log ]]; then
  log "last lines of the simulator's log:"
  tail -n 20 "$WORK/sim.log" >&2
fi
exit "$status"
