# azdo-operator: see README.md.
SHELL := bash
CARGO ?= cargo

include hack/controlplane.mk

.PHONY: all build test unit-test crds lint fmt demo demo-stop sim bench bench-10x clean-cache help

all: build

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

build: ## Build the operator and the simulator
	$(CARGO) build --workspace --bins

test: controlplane ## Run every test: unit, simulator, client, end-to-end (builds the control plane on first use)
	hack/ensure-tools.sh
	$(CARGO) test --workspace --all-targets
	hack/sdk-test.sh
	hack/go-sdk-test.sh

# Every Rust test target that needs no control plane: the unit tests of the operator, the
# simulator and the examples (hack/), the client tests (tests/client, against an in-process
# azdo-sim) and the simulator's API tests (sim/tests/api). Only the e2e binary is left out.
UNIT_TEST_TARGETS := --lib --bins --examples --test client --test api

unit-test: ## Every test that needs no control plane (all but tests/e2e and the Python SDK tests)
	$(CARGO) test --workspace $(UNIT_TEST_TARGETS)

crds: ## Regenerate crds/ (and the chart's and kustomize's copies) from the Rust types
	$(CARGO) run --quiet --bin azdo-operator -- crds --out-dir crds
	cp crds/*.yaml charts/azdo-operator/files/crds/
	cp crds/*.yaml config/crd/bases/

lint: ## rustfmt and clippy, as CI runs them
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

sim: ## Run the simulator alone with the default seed
	$(CARGO) run --release --bin azdo-sim -- --seed sim/seeds/default.yaml --ca-out target/azdo-sim

demo: controlplane ## Run control plane, simulator and operator, apply config/samples/, leave it running
	hack/demo.sh start

demo-stop: ## Stop what `make demo` started
	hack/demo.sh stop

bench: controlplane ## Benchmark: the curve at 0.1, 1 and 3 times the documented workload (800 objects), beside lower bounds (not part of test)
	hack/bench.sh --curve 0.1,1,3 $(BENCH_ARGS)

bench-10x: controlplane ## Benchmark: 10 times the documented workload (8,000 objects; about 11 minutes)
	hack/bench.sh --curve 10 $(BENCH_ARGS)
