#!/usr/bin/env bash
# make bench: build azdo-operator and the bench runner in release, then run the five scenarios
# (cold converge, restart, steady resync, drift, rate-limited cold converge) against a real
# kube-apiserver and azdo-sim, print the table beside the lower bounds and write
# target/bench/result.json. Method and latest results: docs/benchmark.md.
#
# Usage: hack/bench.sh [runner options]     e.g. hack/bench.sh --scale 0.1
#        (make bench BENCH_ARGS='--scale 0.1'; `target/release/examples/bench --help` lists them)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${AZDO_CONTROLPLANE_BIN:?run through 'make bench' (it builds the control plane and sets AZDO_CONTROLPLANE_BIN)}"
target="${CARGO_TARGET_DIR:-target}"

started=$SECONDS
echo "bench: building azdo-operator and the bench runner (release)" >&2
"${CARGO:-cargo}" build --release --bins --example bench
echo "bench: built in $((SECONDS - started)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

"$target/release/examples/bench" --operator "$target/release/azdo-operator" "$@"
echo "bench: done in $((SECONDS - started)) s (build included)" >&2
