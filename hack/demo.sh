#!/usr/bin/env bash
# make demo / make demo-stop: run control plane + azdo-sim + azdo-operator with config/samples/
# applied, in the background, and print how to use it.
set -euo pipefail
cd "$(dirname "$0")/.."
state=target/demo
mkdir -p "$state"

stop() {
  if [[ -f $state/demo.pid ]] && kill -0 "$(cat "$state/demo.pid")" 2>/dev/null; then
    kill -TERM "$(cat "$state/demo.pid")"
    for _ in $(seq 1 50); do kill -0 "$(cat "$state/demo.pid")" 2>/dev/null || break; sleep 0.2; done
    echo "demo stopped"
  else
    echo "no demo running"
  fi
  rm -f "$state/demo.pid" "$state/ready"
}

case "${1:-start}" in
  stop) stop ;;
  start)
    stop >/dev/null
    echo "demo: building azdo-operator and the demo runner (first run: a few minutes)"
    cargo build --bins --example demo
    : "${AZDO_CONTROLPLANE_BIN:?run through 'make demo' (it builds the control plane and sets AZDO_CONTROLPLANE_BIN)}"
    rm -f "$state/ready"
    nohup target/debug/examples/demo "$state" >"$state/demo.log" 2>&1 &
    echo $! >"$state/demo.pid"
    for _ in $(seq 1 600); do
      [[ -f $state/ready ]] && break
      if ! kill -0 "$(cat "$state/demo.pid")" 2>/dev/null; then
        echo "demo failed:"; tail -50 "$state/demo.log"; exit 1
      fi
      sleep 0.5
    done
    [[ -f $state/ready ]] || { echo "demo did not become ready:"; tail -50 "$state/demo.log"; exit 1; }
    cat "$state/summary.txt"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
