# messenger-handover: `make demo` (the main job), `make test` (everything), `make bench`.
# Everything builds into one shared target dir; Python gets its own virtualenv
# (.venv) and Node its own node_modules, both made here from a clean clone.

SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(CURDIR)/target
# napi always passes --target, which moves its artifacts into target/<triple>;
# naming the host triple for every build (cargo, maturin, napi) keeps one set
# of compiled dependencies instead of two.
export CARGO_BUILD_TARGET ?= $(shell rustc -vV | sed -n 's/^host: //p')
# Where release binaries land with that triple (bench and soak run them).
RELEASE_DIR := $(CARGO_TARGET_DIR)/$(if $(CARGO_BUILD_TARGET),$(CARGO_BUILD_TARGET)/)release
CARGO ?= cargo
PYTHON ?= python3
VENV := $(CURDIR)/.venv
VPY := $(VENV)/bin/python
# One interpreter for every build of pyo3 (maturin's and cargo's), so that
# switching between them does not rebuild it.
export PYO3_PYTHON := $(VPY)

.PHONY: demo test test-rust bench fmt lint clean
.DEFAULT_GOAL := demo

include mk/python.mk
include mk/node.mk
include mk/bench.mk
include mk/soak.mk
include mk/dist.mk

demo: demo-rust demo-python demo-node

demo-rust:
	@echo "== Rust: core/examples/quickstart.rs =="
	@$(CARGO) run -q -p messenger-handover --example quickstart
	@echo

test: version-check test-rust test-python test-node

test-rust: python-venv
	$(CARGO) run -q -p xtask -- check
	$(CARGO) test --workspace --exclude messenger-handover-python --exclude messenger-handover-node --features messenger-handover/fuzzing
	$(CARGO) clippy --workspace --all-targets --features messenger-handover/fuzzing -- -D warnings

fmt:
	$(CARGO) fmt --all

# Renders the shared surface (errors, enums, constants) from the core's tables
# into the Python and Node packages; `make test` fails when they drift.
.PHONY: gen
gen:
	$(CARGO) run -q -p xtask -- gen

clean:
	rm -rf target .venv bindings-node/node_modules bindings-node/.napi-gen bindings-node/*.node examples/node_modules

# Fuzzing needs nightly Rust and cargo-fuzz, so it is not part of `make test`.
FUZZ_SECONDS ?= 600
.PHONY: fuzz
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd core/fuzz && for t in graph_response webhook; do \
	  mkdir -p /tmp/mh-fuzz-corpus/$$t && cp -n corpus/$$t/* /tmp/mh-fuzz-corpus/$$t/ 2>/dev/null; \
	  cargo +nightly fuzz run -O $$t /tmp/mh-fuzz-corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -max_len=65536 || exit 1; \
	done
