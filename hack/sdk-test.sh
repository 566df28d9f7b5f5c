#!/usr/bin/env bash
# Runs the official Azure DevOps Python SDK (tests/sdk) against azdo-sim.
#
#   hack/sdk-test.sh [pytest arguments...]
#
# 1. A virtualenv outside the repository (${AZDO_CACHE_DIR:-~/.cache/azdo-operator}/venv-sdk)
#    with tests/sdk/requirements.txt from PyPI; reinstalled only when that file changes.
# 2. Builds azdo-sim and starts it with the default seed on free loopback ports, its CA in a
#    temporary directory.
# 3. Runs pytest against it (TLS verified against the simulator's CA), stops the simulator
#    whatever happens, and exits with pytest's status.
#
# Environment: AZDO_CACHE_DIR, PYTHON (default python3), CARGO (default cargo),
# AZDO_SDK_TEST_TIMEOUT (seconds for pytest, default 600), AZDO_SDK_BUILD_TIMEOUT (seconds for
# the build, default 1800), AZDO_SDK_KEEP=1 keeps the work directory (simulator log, CA).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=${AZDO_CACHE_DIR:-$HOME/.cache/azdo-operator}
VENV=$CACHE_DIR/venv-sdk
PYTHON=${PYTHON:-python3}
CARGO=${CARGO:-cargo}
TEST_TIMEOUT=${AZDO_SDK_TEST_TIMEOUT:-600}
BUILD_TIMEOUT=${AZDO_SDK_BUILD_TIMEOUT:-1800}
PIP_TIMEOUT=300
START_TIMEOUT=60
REQUIREMENTS=$ROOT/tests/sdk/requirements.txt
SEED=$ROOT/sim/seeds/default.yaml

log() { printf 'sdk-test: %s\n' "$*" >&2; }

ensure_venv() {
  local stamp=$VENV/.requirements
  mkdir -p "$CACHE_DIR"
  # One installer at a time (parallel runs share the virtualenv).
  exec 9>"$CACHE_DIR/venv-sdk.lock"
  flock 9
  if [[ -x $VENV/bin/python ]] && cmp -s "$REQUIREMENTS" "$stamp"; then
    exec 9>&-
    return
  fi
  log "creating $VENV (PyPI: $(grep -v '^#' "$REQUIREMENTS" | xargs))"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  timeout "$PIP_TIMEOUT" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input -r "$REQUIREMENTS"
  cp "$REQUIREMENTS" "$stamp"
  exec 9>&-
}

build_sim() {
  log "building azdo-sim"
  # The executable's path from cargo itself (the target directory may be shared or moved).
  timeout "$BUILD_TIMEOUT" "$CARGO" build --quiet -p azdo-sim --bin azdo-sim \
    --manifest-path "$ROOT/Cargo.toml" --message-format=json-render-diagnostics |
    "$VENV/bin/python" -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable") \
            and message["target"]["name"] == "azdo-sim":
        print(message["executable"])'
}

WORK=""
SIM_PID=""
cleanup() {
  if [[ -n $SIM_PID ]] && kill -0 "$SIM_PID" 2>/dev/null; then
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
  fi
  if [[ -n $WORK ]]; then
    if [[ ${AZDO_SDK_KEEP:-} == 1 ]]; then
      log "kept $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The URL printed on the simulator's banner line starting with $1.
banner_url() {
  sed -n "s|^  $1 .*\(https://[^ ]*\)$|\1|p" "$WORK/sim.out" | head -n 1
}

start_sim() {
  local binary=$1
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/azdo-sdk-test.XXXXXX")
  "$binary" --seed "$SEED" --listen 127.0.0.1 --dev-port 0 --vssps-port 0 --vsaex-port 0 --login-port 0 \
    --ca-out "$WORK" >"$WORK/sim.out" 2>"$WORK/sim.log" &
  SIM_PID=$!
  local waited=0
  until grep -q '^  CA certificate:' "$WORK/sim.out" 2>/dev/null; do
    if ! kill -0 "$SIM_PID" 2>/dev/null; then
      log "azdo-sim exited during start:"; cat "$WORK/sim.log" >&2; return 1
    fi
    if ((waited >= START_TIMEOUT * 10)); then
      log "azdo-sim did not start within ${START_TIMEOUT}s"; return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  export AZDO_SIM_DEV_URL AZDO_SIM_VSSPS_URL AZDO_SIM_LOGIN_URL AZDO_SIM_CA
  AZDO_SIM_DEV_URL=$(banner_url 'dev (dev.azure.com):')
  AZDO_SIM_VSSPS_URL=$(banner_url 'vssps (vssps.dev.azure.com, Graph):')
  AZDO_SIM_LOGIN_URL=$(banner_url 'login (AZURE_AUTHORITY_HOST):')
  AZDO_SIM_CA=$WORK/ca.pem
  if [[ -z $AZDO_SIM_DEV_URL || -z $AZDO_SIM_VSSPS_URL || -z $AZDO_SIM_LOGIN_URL ]]; then
    log "could not read the simulator's URLs:"; cat "$WORK/sim.out" >&2; return 1
  fi
  log "azdo-sim (pid $SIM_PID): dev $AZDO_SIM_DEV_URL, vssps $AZDO_SIM_VSSPS_URL, login $AZDO_SIM_LOGIN_URL"
}

ensure_venv
BINARY=$(build_sim)
if [[ -z $BINARY || ! -x $BINARY ]]; then
  log "cargo did not report the azdo-sim executable"
  exit 1
fi
start_sim "$BINARY"

status=0
(
  cd "$ROOT/tests/sdk"
  export REQUESTS_CA_BUNDLE=$AZDO_SIM_CA
  export AZURE_DEVOPS_CACHE_DIR=$WORK/sdk-cache
  export PYTHONDONTWRITEBYTECODE=1
  exec timeout "$TEST_TIMEOUT" "$VENV/bin/python" -m pytest "$@"
) || status=$?
if ((status == 124)); then
  log "pytest did not finish within ${TEST_TIMEOUT}s"
fi
if ((status != 0)) && [[ -s $WORK/sim.log ]]; then
  log "last lines of the simulator's log:"
  tail -n 20 "$WORK/sim.log" >&2
fi
exit "$status"
