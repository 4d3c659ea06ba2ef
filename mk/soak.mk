# Soak runs (issue 6): 200,000 calls with 256 in flight through each
# language's client against the in-process emulator, then a 100,000-
# conversation paging run. Programs that print figures (errors, calls/s, open
# sockets, RSS after warm-up and at the end), not timed tests; record them in
# docs/RELIABILITY.md. Release builds only.
#   make soak                      all three languages
#   make soak-rust | soak-python | soak-node
#   SOAK_CALLS=20000 make soak     a shorter run
# Everything built here lives under $(CARGO_TARGET_DIR)/soak/ (a virtualenv
# with the release wheel, the release Node addon): the debug builds that
# `make test` uses are left alone.

export CARGO_TARGET_DIR ?= $(CURDIR)/target
CARGO ?= cargo
PYTHON ?= python3
SOAK_CALLS ?= 200000
SOAK_IN_FLIGHT ?= 256
SOAK_CONVERSATIONS ?= 100000
SOAK_ARGS = --calls $(SOAK_CALLS) --in-flight $(SOAK_IN_FLIGHT) --conversations $(SOAK_CONVERSATIONS)
SOAK_NICE ?= nice -n 10
SOAK_OUT := $(CARGO_TARGET_DIR)/soak
SOAK_VENV := $(SOAK_OUT)/venv
SOAK_PY := $(SOAK_VENV)/bin/python
SOAK_NODE_ADDON := $(SOAK_OUT)/node/messenger-handover.linux-x64-gnu.node

.PHONY: soak soak-rust soak-python soak-node soak-python-build soak-node-build

soak: soak-rust soak-python soak-node

soak-rust:
	$(SOAK_NICE) $(CARGO) build -q --release -p messenger-handover --example soak
	$(RELEASE_DIR)/examples/soak $(SOAK_ARGS)

# The package built by maturin through pip in its default (release) profile,
# into a virtualenv of its own.
soak-python-build:
	@test -x $(SOAK_PY) || $(PYTHON) -m venv $(SOAK_VENV)
	$(SOAK_NICE) $(SOAK_PY) -m pip install -q --force-reinstall ./bindings-python

soak-python: soak-python-build
	$(SOAK_PY) soak/soak.py $(SOAK_ARGS)

# The addon in release mode through the binding's own build script, written
# to $(SOAK_OUT)/node; bindings-node's loader is pointed at it.
soak-node-build: node-deps
	cd bindings-node && $(SOAK_NICE) npm run build -- --release --output-dir $(SOAK_OUT)/node

soak-node: soak-node-build
	NAPI_RS_NATIVE_LIBRARY_PATH=$(SOAK_NODE_ADDON) node --expose-gc soak/soak.mjs $(SOAK_ARGS)
